from bot.actions.simple import sentences, simple_lines
from bot.catalogue import load_catalogue
from retrieval.api import Aspect


def test_sentences_split_on_sentence_ends_and_semicolons() -> None:
    assert sentences("Erstens gilt das. Zweitens das; drittens 3 Euro.") == [
        "Erstens gilt das.", "Zweitens das; drittens 3 Euro."]
    # A semicolon before a new capitalised clause ends a line too, and becomes a full stop.
    assert sentences("etwa 3 bis 4 Wochen; Expresspass in 3 Tagen") == [
        "etwa 3 bis 4 Wochen.", "Expresspass in 3 Tagen"]
    assert sentences("  ") == []


def test_one_fact_per_line_key_fact_first() -> None:
    service = load_catalogue().services["reisepass"]
    lines = simple_lines(service, Aspect.FEES)
    assert lines[0] == "Es geht um: Reisepass beantragen."
    assert lines[1] == "Das kostet:"
    assert lines[2].startswith("70 Euro")
    docs = simple_lines(service, Aspect.DOCUMENTS)
    assert docs[1] == "Das müssen Sie mitbringen:"
    assert all(line.startswith("- ") for line in docs[2:])
    assert simple_lines(service, Aspect.ONLINE)[1:] == [
        "Das geht nicht im Internet.", "Sie müssen zum Amt gehen."]
