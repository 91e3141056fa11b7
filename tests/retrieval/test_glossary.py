"""Query glossary: parsing, phrase matching, dropping words the catalogue does not know."""

from __future__ import annotations

import pytest

from retrieval.glossary import expand_query, load_glossary, parse_glossary

GLOSSARY = parse_glossary("""
# comment
residence permit = Aufenthaltserlaubnis Aufenthaltstitel
permit = Erlaubnis
lost = verloren
perso = Personalausweis
driver's license = Führerschein
have =
kostet = -
""")


def _known(words: set[str]):
    return lambda word: word in words


def test_longest_phrase_wins_and_unknown_source_words_are_dropped() -> None:
    got = expand_query("I lost my residence permit", GLOSSARY, _known(set()))
    assert got.added == ("verloren", "Aufenthaltserlaubnis Aufenthaltstitel")
    assert got.lexical == "I my verloren Aufenthaltserlaubnis Aufenthaltstitel"


def test_a_word_the_catalogue_knows_stays() -> None:
    got = expand_query("Perso abgelaufen", GLOSSARY, _known({"perso"}))
    assert got.lexical == "Perso abgelaufen Personalausweis"


def test_apostrophes_and_case_and_drop_only_entries() -> None:
    got = expand_query("I have a Driver’s License", GLOSSARY, _known(set()))
    assert got.added == ("Führerschein",)
    assert got.lexical == "I a Führerschein"


def test_aspect_words_are_dropped_even_when_the_catalogue_knows_them() -> None:
    got = expand_query("Was kostet ein Reisepass", GLOSSARY, _known({"kostet", "reisepass"}))
    assert got.lexical == "Was ein Reisepass"
    assert got.added == ()


def test_no_match_returns_the_query_unchanged() -> None:
    got = expand_query("Wohnsitz anmelden", GLOSSARY, _known(set()))
    assert not got.changed
    assert got.lexical == "Wohnsitz anmelden"


def test_bad_line_names_its_number() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_glossary("perso = Personalausweis\nno separator here\n")


def test_shipped_glossary_parses_and_maps_core_terms() -> None:
    glossary = load_glossary()
    assert len(glossary) > 200
    assert glossary.entries[("passport",)] == "Reisepass"
    assert "Aufenthaltserlaubnis" in glossary.entries[("residence", "permit")]
    assert glossary.entries[("perso",)] == "Personalausweis"
    assert glossary.entries[("kostet",)] == "-"
