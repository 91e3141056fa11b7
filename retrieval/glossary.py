"""Query glossary: everyday German and English words -> the catalogue's official terms.

    glossary = load_glossary()                       # retrieval/glossary_de.txt (I/O, cached)
    expand_query("I lost my passport", glossary, known)
    -> Expansion(lexical="my Reisepass verloren Verlust", added=("verloren Verlust", "Reisepass"))

A citizen writes "Perso", "Knöllchen" or "residence permit"; the catalogue says
"Personalausweis", "Verwarnungsgeld", "Aufenthaltserlaubnis". The glossary (a plain data file,
see its header for scope and sources) maps phrases to official terms; :func:`expand_query`
appends the terms of every phrase found and drops the phrase's words that the catalogue itself
does not know (``known``), so that an English word neither matches nothing nor counts as a
missing, unknown word (which the decision reads as "not in the catalogue"). Words the catalogue
knows stay: "Pass" keeps matching the services that say "Pass". Pure apart from
:func:`load_glossary`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from retrieval.normalize import fold

__all__ = ["Expansion", "Glossary", "expand_query", "load_glossary", "parse_glossary"]

GLOSSARY_FILE = Path(__file__).with_name("glossary_de.txt")
DROP = "-"  # target of words that never take part in matching (aspect words: "kostet")
# Words with inner hyphens and apostrophes ("self-employed", "driver's") are one token.
_TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)


def _words(text: str) -> list[str]:
    return [fold(t.replace("’", "'")) for t in _TOKEN.findall(text)]


@dataclass(frozen=True, slots=True)
class Glossary:
    """Folded source phrase (tuple of words) -> target terms ("" = drop the words the catalogue
    does not know, :data:`DROP` = drop the words)."""

    entries: Mapping[tuple[str, ...], str]
    longest: int

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True, slots=True)
class Expansion:
    lexical: str  # the query for lexical matching: kept words, then the added terms
    added: tuple[str, ...]  # target terms of the phrases found, in query order

    @property
    def changed(self) -> bool:
        return bool(self.added)


def parse_glossary(text: str) -> Glossary:
    """Parse ``source = targets`` lines; ``#`` starts a comment. Errors name the line."""
    entries: dict[tuple[str, ...], str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        source, sep, target = line.partition("=")
        key = tuple(_words(source))
        if not sep or not key:
            raise ValueError(f"glossary line {number}: expected 'source = targets': {raw!r}")
        entries[key] = " ".join(target.split())
    longest = max((len(k) for k in entries), default=0)
    return Glossary(MappingProxyType(entries), longest)


@lru_cache(maxsize=1)
def load_glossary(path: Path = GLOSSARY_FILE) -> Glossary:
    return parse_glossary(path.read_text(encoding="utf-8"))


def expand_query(text: str, glossary: Glossary, known: Callable[[str], bool]) -> Expansion:
    """Find glossary phrases in ``text`` (longest first, left to right) and expand them.

    ``known(word)`` tells whether the catalogue knows a (folded) word; a found phrase's unknown
    words are dropped from the lexical query (all of them for the target :data:`DROP`), its
    targets appended.
    """
    tokens = _TOKEN.findall(text)
    folded = [fold(t.replace("’", "'")) for t in tokens]
    kept: list[str] = []
    added: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(glossary.longest, len(tokens) - i), 0, -1):
            target = glossary.entries.get(tuple(folded[i : i + size]))
            if target is not None:
                break
        else:
            kept.append(tokens[i])
            i += 1
            continue
        for word, original in zip(folded[i : i + size], tokens[i : i + size]):
            if target != DROP and known(word):
                kept.append(original)
        if target and target != DROP and target not in added:
            added.append(target)
        i += size
    if not added and len(kept) == len(tokens):
        return Expansion(text, ())
    return Expansion(" ".join([*kept, *added]), tuple(added))
