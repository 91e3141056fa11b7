"""Phrase hints from the city's catalogue (pure): service and life-situation names and their
synonyms, short enough to be said as an answer to "Welche Leistung meinen Sie?"."""

from __future__ import annotations

import re

from bot.catalogue.model import Catalogue

MAX_WORDS = 4


def catalogue_phrase_hints(catalogue: Catalogue, limit: int = 2000) -> tuple[str, ...]:
    phrases: list[str] = []
    for item in [*catalogue.services.values(), *catalogue.life_situations.values()]:
        for text in (item.name, *item.synonyms):
            # "Reisepass (Erwachsene) – Antrag" → "Reisepass Erwachsene Antrag"
            words = re.sub(r"[^\w\s-]", " ", text).replace(" - ", " ").split()
            if 0 < len(words) <= MAX_WORDS:
                phrases.append(" ".join(words))
    return tuple(dict.fromkeys(phrases))[:limit]
