"""Service families: variants of one base service ("Altersrente (Telefon-Termin)" and
"Altersrente (Vor-Ort-Termin)", "Aufenthaltserlaubnis – Studium", "Duldung - Ausbildung …").

A name's family key is the part before its qualifier (" – ", " - ", " (") ; a service is the
*base* of a family when another service's name is its name plus a qualifier or more words
("Wohnsitzanmeldung" for "Wohnsitzanmeldung – Familie", "Niederlassungserlaubnis" for
"Niederlassungserlaubnis für Fachkräfte"). Used by the reranker (a question that names no
variant should prefer the general service) and by the decision (close candidates of one family
are a choice to offer, not a reason to abstain). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Families", "family_key", "service_families"]

_QUALIFIER = re.compile(r"\s+(?:[–—-]\s|\()")


def family_key(name: str) -> str:
    """The name without its qualifier, case-folded: "Altersrente (Telefon-Termin)" -> "altersrente"."""
    base = _QUALIFIER.split(name.strip(), maxsplit=1)[0]
    return " ".join(base.casefold().split())


@dataclass(frozen=True, slots=True)
class Families:
    """Per service id: its family key, and whether it is the base of a family."""

    key: Mapping[str, str]
    is_base: frozenset[str]
    is_variant: frozenset[str]  # has a qualifier or extends a base service's name

    def same_family(self, a: str, b: str) -> bool:
        return a in self.key and b in self.key and self.key[a] == self.key[b]


def service_families(names: Mapping[str, str]) -> Families:
    """Families of a catalogue's services, given ``{service_id: name}``."""
    full = {sid: " ".join(name.casefold().split()) for sid, name in names.items()}
    key = {sid: family_key(name) for sid, name in names.items()}
    by_name: dict[str, list[str]] = {}
    for sid, name in full.items():
        by_name.setdefault(name, []).append(sid)
    base: set[str] = set()
    variant: set[str] = set()
    for sid, name in full.items():
        if key[sid] != name:
            variant.add(sid)
        # the longest other service name that this one extends by whole words
        words = name.split()
        for cut in range(len(words) - 1, 0, -1):
            prefix = " ".join(words[:cut])
            owners = by_name.get(prefix)
            if owners:
                base.update(owners)
                variant.add(sid)
                key[sid] = prefix
                break
        if key[sid] in by_name and key[sid] != name:
            base.update(by_name[key[sid]])
    # a base service and its variants share the base's key
    for sid in base:
        key[sid] = full[sid]
    return Families(key=key, is_base=frozenset(base), is_variant=frozenset(variant - base))
