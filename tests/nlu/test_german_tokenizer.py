from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.tokenizer import GermanTokenizer, LemmaLookup


def test_lemmas_from_the_lookup_table_lowercased() -> None:
    lookup = LemmaLookup()
    assert lookup.lemma("kostet") == "kosten"
    assert lookup.lemma("Gebühren") == "gebühr"
    assert lookup.lemma("Ausweise") == "ausweis"


def test_lowercase_nouns_are_tried_capitalised() -> None:
    # Voice transcripts and hasty typing lose the capital letters of German nouns.
    lookup = LemmaLookup()
    assert lookup.lemma("ausweise") == "ausweis"
    assert lookup.lemma("Xyzwort") == "xyzwort"


def test_tokens_keep_offsets_and_drop_punctuation() -> None:
    tokenizer = GermanTokenizer(GermanTokenizer.get_default_config())
    text = "Was kostet ein Reisepass?"
    tokens = tokenizer.tokenize(Message({TEXT: text}), TEXT)
    assert [t.text for t in tokens] == ["Was", "kostet", "ein", "Reisepass"]
    assert [t.lemma for t in tokens][:2] == ["was", "kosten"]
    assert all(text[t.start:t.end] == t.text for t in tokens)


def test_hyphenated_compounds_stay_one_token() -> None:
    tokenizer = GermanTokenizer(GermanTokenizer.get_default_config())
    tokens = tokenizer.tokenize(Message({TEXT: "Kfz-Zulassung und Kita-Platz"}), TEXT)
    assert [t.text for t in tokens] == ["Kfz-Zulassung", "und", "Kita-Platz"]


def test_only_punctuation_still_gives_a_token() -> None:
    tokenizer = GermanTokenizer(GermanTokenizer.get_default_config())
    assert len(tokenizer.tokenize(Message({TEXT: "???"}), TEXT)) == 1
