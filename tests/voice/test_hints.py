"""Phrase hints from the bundled sample city's catalogue."""

from __future__ import annotations

from bot.catalogue import load_catalogue
from voice.hints import MAX_WORDS, catalogue_phrase_hints


def test_service_names_and_synonyms_become_short_phrases() -> None:
    catalogue = load_catalogue()
    hints = catalogue_phrase_hints(catalogue)
    assert hints and len(hints) == len(set(hints))
    assert all(0 < len(h.split()) <= MAX_WORDS for h in hints)
    assert all("(" not in h and "," not in h for h in hints)
    short_names = [s.name for s in catalogue.services.values() if len(s.name.split()) <= 2
                   and s.name.replace("-", "").replace(" ", "").isalpha()]
    assert short_names and short_names[0] in hints
