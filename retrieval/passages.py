"""Catalogue -> passages: the units that are embedded and searched. Pure functions.

Each service gives one passage per name, synonym, description section, document list,
prerequisite list, fee text and processing time (life situations are matched separately, see
:mod:`retrieval.engine`). Description sections are split at blank lines (a short heading line joins the
paragraph after it) and long sections at sentence ends, so that a passage states one thing.
Dense passages carry the service name as context ("Reisepass: Die Gebühr ..."); lexical
matching uses the passage text itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.catalogue.model import Catalogue, Service

__all__ = [
    "PASSAGE_SCHEMA_VERSION",
    "Passage",
    "PassageKind",
    "catalogue_passages",
    "service_passages",
    "split_sections",
]

# Bump when the passage layout changes: persisted indexes built with another version are stale.
PASSAGE_SCHEMA_VERSION = 3

MAX_CHARS = 360  # a section longer than this is split at sentence ends
_HEADING_MAX = 70
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+(?=[A-ZÄÖÜ0-9\"„(])")
_SPACE = re.compile(r"[ \t\u00a0\u200b]+")


class PassageKind(StrEnum):
    NAME = "name"
    SYNONYM = "synonym"
    DESCRIPTION = "description"
    DOCUMENTS = "documents"
    PREREQUISITES = "prerequisites"
    FEES = "fees"
    PROCESSING_TIME = "processing_time"
    HINT = "hint"


@dataclass(frozen=True, slots=True)
class Passage:
    service_id: str
    kind: PassageKind
    text: str  # what lexical matching reads
    dense_text: str  # what is embedded (with the service name as context where useful)


def _clean(text: str | None) -> str:
    if not text:
        return ""
    lines = [_SPACE.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
    return "\n".join(lines).strip()


def _is_heading(block: str) -> bool:
    return "\n" not in block and len(block) <= _HEADING_MAX and not block.endswith((".", "!", "?"))


def _split_long(block: str, limit: int) -> list[str]:
    if len(block) <= limit:
        return [block]
    pieces: list[str] = []
    current = ""
    units = [u for line in block.split("\n") for u in _SENTENCE_END.split(line) if u.strip()]
    for unit in units:
        unit = unit.strip()
        if current and len(current) + 1 + len(unit) > limit:
            pieces.append(current)
            current = unit
        else:
            current = f"{current} {unit}".strip()
    if current:
        pieces.append(current)
    # a single sentence longer than the limit stays whole: cutting words helps nobody
    return pieces


def split_sections(text: str | None, limit: int = MAX_CHARS) -> list[str]:
    """Description text -> sections of at most ``limit`` characters (where sentences allow)."""
    clean = _clean(text)
    if not clean:
        return []
    blocks = [b.strip() for b in re.split(r"\n\s*\n", clean) if b.strip()]
    sections: list[str] = []
    heading = ""
    for block in blocks:
        if _is_heading(block):
            heading = f"{heading} {block}".strip() if heading else block
            continue
        body = f"{heading}: {block}" if heading else block
        heading = ""
        sections.extend(_split_long(body, limit))
    if heading:
        sections.append(heading)
    return sections


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        clean = _clean(item)
        key = clean.casefold()
        if clean and key not in seen:
            seen.add(key)
            out.append(clean)
    return out


def service_passages(service: Service) -> list[Passage]:
    """All passages of one service; a service without any text gives none."""
    sid = service.id
    name = _clean(service.name)
    context = f"{name}: " if name else ""
    out: list[Passage] = []

    def add(kind: PassageKind, text: str, with_context: bool) -> None:
        if text:
            out.append(Passage(sid, kind, text, f"{context}{text}" if with_context else text))

    add(PassageKind.NAME, name, False)
    for synonym in _unique(service.synonyms):
        if synonym.casefold() != name.casefold():
            add(PassageKind.SYNONYM, synonym, False)
    for section in split_sections(service.description):
        add(PassageKind.DESCRIPTION, section, True)
    if service.documents:
        add(PassageKind.DOCUMENTS, "Unterlagen: " + "; ".join(_unique(service.documents)), True)
    if service.prerequisites:
        text = "Voraussetzungen: " + "; ".join(_unique(service.prerequisites))
        add(PassageKind.PREREQUISITES, text, True)
    for section in split_sections(service.fees):
        add(PassageKind.FEES, f"Gebühren: {section}", True)
    for section in split_sections(service.processing_time):
        add(PassageKind.PROCESSING_TIME, f"Bearbeitungsdauer: {section}", True)
    for hint in _unique(service.hints):
        add(PassageKind.HINT, hint, True)
    return out


def catalogue_passages(catalogue: Catalogue) -> list[Passage]:
    """Passages of every service, in a stable order (service id, then position)."""
    out: list[Passage] = []
    for sid in sorted(catalogue.services):
        out.extend(service_passages(catalogue.services[sid]))
    return out
