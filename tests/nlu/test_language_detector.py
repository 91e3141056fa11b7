from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.language_detector import LanguageDetector
from bot.nlu.tokenizer import GermanTokenizer


def parsed(text: str) -> Message:
    message = Message({TEXT: text})
    tokenizer = GermanTokenizer(GermanTokenizer.get_default_config())
    tokenizer.process([message])
    LanguageDetector().process([message])
    return message


def test_english_message_gets_a_language_entity_on_its_first_word() -> None:
    [entity] = parsed("How much does a passport cost?").get(ENTITIES)
    assert entity["entity"] == "language" and entity["value"] == "en"
    assert (entity["start"], entity["end"]) == (0, 3)
    assert entity["extractor"] == "LanguageDetector"


def test_german_message_gets_none() -> None:
    assert not parsed("Was kostet ein Reisepass?").get(ENTITIES)
