"""Aspect detection from German and English cue words, typed or voice-style lower case."""

from __future__ import annotations

import pytest

from retrieval.api import Aspect
from retrieval.aspects import detect_aspect, detect_aspects


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("Was kostet ein Reisepass?", Aspect.FEES),
        ("wie viel gebühren muss ich für den perso zahlen", Aspect.FEES),
        ("How much is a passport?", Aspect.FEES),
        ("Welche Unterlagen brauche ich für die Anmeldung?", Aspect.DOCUMENTS),
        ("was muss ich alles mitbringen", Aspect.DOCUMENTS),
        ("Wie lange dauert ein Führungszeugnis?", Aspect.PROCESSING_TIME),
        ("brauche ich einen termin", Aspect.APPOINTMENT),
        ("Kann ich das online beantragen?", Aspect.ONLINE),
        ("Welche Voraussetzungen gibt es?", Aspect.PREREQUISITES),
        ("Wo kann ich meinen Wohnsitz anmelden?", Aspect.OFFICE),
        ("Öffnungszeiten Bürgerbüro", Aspect.OFFICE),
        ("Reisepass beantragen", Aspect.GENERAL),
    ],
)
def test_detect_aspect(text: str, aspect: Aspect) -> None:
    assert detect_aspect(text) == aspect


def test_several_aspects_most_specific_first() -> None:
    assert detect_aspects("wo kann ich das machen und was kostet es") == [Aspect.FEES,
                                                                          Aspect.OFFICE]
    assert detect_aspects("") == [Aspect.GENERAL]
