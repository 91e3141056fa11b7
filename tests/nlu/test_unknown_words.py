from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.tokenizer import GermanTokenizer
from bot.nlu.unknown_words import all_unknown

VOCABULARY = frozenset({"reisepass", "hello", "kosten", "was"})
TOKENIZER = GermanTokenizer(GermanTokenizer.get_default_config())


def unknown(text: str) -> bool:
    message = Message({TEXT: text})
    TOKENIZER.process([message])
    return all_unknown(message.get(TOKENS_NAMES[TEXT]), VOCABULARY)


def test_gibberish_is_unknown() -> None:
    assert unknown("qwertz uiop")
    assert unknown("asdkjh qwe")
    assert unknown("???")


def test_one_known_word_is_enough() -> None:
    assert not unknown("qwertz Reisepass")
    assert not unknown("hello xyz")


def test_dictionary_words_count_even_when_not_in_training_data() -> None:
    # "Bäume" has a lemma in the German lookup table.
    assert not unknown("Bäume")


def test_numbers_are_not_gibberish() -> None:
    assert not unknown("12345")
