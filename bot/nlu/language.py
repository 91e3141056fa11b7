"""Which language a citizen writes in: German (the default) or English.

A deliberately simple heuristic: count frequent function words of each language; umlauts and ß
count for German. Anything undecided stays German, the administration's language.
"""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["de", "en"]

_WORD = re.compile(r"[a-zäöüß']+")

_ENGLISH = frozenset(["the", "a", "is", "are", "were", "be", "been", "i", "you", "he", "she", "we", "they", "it", "my", "your", "our", "their", "me", "us", "how", "what", "where", "when", "who", "why", "which", "whose", "this", "that", "these", "those", "there", "here", "do", "does", "did", "can", "could", "would", "should", "shall", "may", "might", "must", "have", "has", "had", "get", "got", "need", "want", "like", "to", "of", "for", "with", "from", "about", "into", "at", "on", "by", "and", "or", "but", "not", "no", "yes", "please", "thanks", "thank", "hello", "bye", "goodbye", "morning", "afternoon", "evening", "much", "many", "long", "take", "cost", "costs", "apply", "register", "passport", "card", "licence", "license", "permit", "office", "hours", "human", "agent", "talk", "speak", "help", "just", "moved", "live", "new", "some", "any", "if", "then", "than", "also", "only", "very"])

_GERMAN = frozenset(["der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines", "und", "oder", "aber", "nicht", "kein", "keine", "ist", "sind", "bin", "bist", "war", "sein", "ich", "du", "er", "sie", "es", "wir", "ihr", "mich", "mir", "dich", "dir", "uns", "euch", "mein", "meine", "meinen", "meinem", "meiner", "dein", "deine", "ihr", "ihre", "ihren", "wie", "was", "wo", "wann", "wer", "warum", "welche", "welcher", "welches", "kann", "können", "muss", "müssen", "will", "möchte", "brauche", "brauch", "habe", "haben", "hat", "gibt", "gern", "gerne", "bitte", "danke", "hallo", "tschüss", "tschüs", "ja", "nein", "nee", "für", "mit", "bei", "beim", "vom", "zum", "zur", "zu", "auf", "aus", "nach", "um", "über", "im", "am", "noch", "schon", "auch", "so", "mal", "nur", "hier", "jetzt", "heute", "morgen", "man", "da", "dafür", "kostet", "kosten", "guten", "tag", "auf", "wiedersehen", "wohne", "ziehe", "melde", "beantragen", "anmelden"])

_GERMAN_LETTERS = re.compile(r"[äöüß]")


def detect_language(text: str) -> Language:
    """``"en"`` if the text reads as English, else ``"de"``."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    english = sum(1 for w in words if w in _ENGLISH)
    german = sum(1 for w in words if w in _GERMAN)
    if _GERMAN_LETTERS.search(lowered):
        german += 2
    return "en" if english > german else "de"
