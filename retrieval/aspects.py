"""What does the citizen want to know about a service? Cue words -> :class:`Aspect`. Pure.

Works on typed text and on lower-case voice transcripts alike (matching is on folded text:
lower case, umlauts and ß folded). Cues are German and English. When several aspects are
named, the most specific wins in the order of :data:`_PRIORITY`.
"""

from __future__ import annotations

import re

from retrieval.api import Aspect
from retrieval.normalize import fold

__all__ = ["detect_aspect", "detect_aspects"]

# Patterns over folded text with word boundaries; "\w*" allows inflection and compounds.
_CUES: dict[Aspect, tuple[str, ...]] = {
    Aspect.FEES: (
        r"kost\w*", r"\w*gebuhr\w*", r"preis\w*", r"teuer\w*", r"(be)?zahl\w*", r"euro",
        r"wie ?viel geld", r"was muss ich zahlen", r"umsonst", r"gratis", r"cost\w*", r"fees?",
        r"price\w*", r"how much", r"charge\w*",
    ),
    Aspect.DOCUMENTS: (
        r"unterlagen", r"dokument\w*", r"mitbring\w*", r"mitnehm\w*", r"mitkomm\w*",
        r"mitzubringen", r"nachweis\w*", r"papiere", r"formular\w*", r"lichtbild\w*",
        r"passfoto\w*", r"foto\w*", r"was brauch\w* (ich|wir|man)", r"welche unterlagen",
        r"brauch\w* (ich|wir|man) (da|dafur|alles)", r"documents?", r"paperwork",
        r"what do i need to bring", r"bring",
    ),
    Aspect.PROCESSING_TIME: (
        r"wie lange", r"dauer\w*", r"bearbeitungszeit\w*", (r"wann (ist|bekomme|kriege?) \w+ (fertig|da)"), r"wie schnell", r"fertig", r"wartezeit\w*", r"express\w*",
        r"how long", r"processing time", r"heute noch", r"sofort",
    ),
    Aspect.APPOINTMENT: (
        r"termin\w*", r"\w*terminvereinbarung", r"buch(en|e)", r"ohne anmeldung vorbei",
        r"einfach (so )?vorbei\w*", r"vorbeikommen", r"spontan\w*", r"wartenummer",
        r"appointment\w*", r"book\w*", r"telefonisch",
    ),
    Aspect.ONLINE: (
        r"online", r"internet", r"digital\w*", r"von zu hause", r"elektronisch beantrag\w*",
        r"per e-?mail", r"per post", r"pdf", r"bayernid", r"website", r"webseite",
    ),
    Aspect.PREREQUISITES: (
        r"voraussetzung\w*", r"bedingung\w*", r"berechtigt\w*", r"anspruch\w*", r"darf (ich|man)",
        r"wer (kann|darf)", r"frist\w*", r"bekomm\w* ich (trotzdem|auch)",
        r"muss (ich|sie|er|man) (selbst|personlich)", r"personlich", r"alter", r"eligib\w*", r"requirement\w*",
        r"am i allowed", r"can i get",
    ),
    Aspect.OFFICE: (
        r"wo", r"wohin", r"bei wem", r"welche[sm]? (amt|behorde|burgerburo|stelle|buro)",
        r"zustandig\w*", r"adresse", r"anschrift", r"offnungszeit\w*", r"geoffnet", r"auf ?hat",
        r"standort\w*", r"wer (bestatigt|stellt|macht)", r"where", r"opening hours", r"which office",
        r"zur polizei oder",
    ),
}

_PRIORITY = (
    Aspect.FEES,
    Aspect.DOCUMENTS,
    Aspect.PROCESSING_TIME,
    Aspect.ONLINE,
    Aspect.APPOINTMENT,
    Aspect.PREREQUISITES,
    Aspect.OFFICE,
)

_PATTERNS: dict[Aspect, re.Pattern[str]] = {
    aspect: re.compile(r"\b(?:" + "|".join(cues) + r")\b") for aspect, cues in _CUES.items()
}


def _folded(text: str) -> str:
    return " ".join(fold(word) for word in re.findall(r"[^\W_]+(?:-[^\W_]+)*", text))


def detect_aspects(text: str) -> list[Aspect]:
    """All aspects the text names, most specific first; ``[GENERAL]`` when none."""
    folded = _folded(text)
    found = [aspect for aspect in _PRIORITY if _PATTERNS[aspect].search(folded)]
    return found or [Aspect.GENERAL]


def detect_aspect(text: str) -> Aspect:
    """The aspect to answer: the most specific one named, else GENERAL."""
    return detect_aspects(text)[0]
