"""The city's service catalogue as immutable Python objects.

Every importer (our own JSON format, DLDB JSON from Berlin/Munich, ...) produces a
:class:`Catalogue`; retrieval, the dialogue actions and the gateway only ever see these types.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import IntEnum


class Weekday(IntEnum):
    """ISO weekday numbers minus one, matching :meth:`datetime.date.weekday`."""

    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6

    @property
    def german(self) -> str:
        return _GERMAN_WEEKDAYS[self]


_GERMAN_WEEKDAYS = (
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """An opening interval on one day, ``start < end``."""

    start: dt.time
    end: dt.time


@dataclass(frozen=True, slots=True)
class Address:
    street: str
    postal_code: str
    city: str

    def one_line(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}".strip(", ")


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Office:
    """A place where citizens are served (Bürgerbüro, Standesamt, Zulassungsstelle, ...)."""

    id: str
    name: str
    address: Address | None = None
    district: str | None = None
    # Postcodes this office is responsible for, where a city splits by area.
    postal_codes: tuple[str, ...] = ()
    geo: GeoPoint | None = None
    phone: str | None = None
    email: str | None = None
    url: str | None = None
    booking_url: str | None = None
    # Weekday -> opening intervals; a weekday missing from the mapping is closed.
    # ``None`` means the catalogue does not say (DLDB exports carry no hours).
    opening_hours: dict[Weekday, tuple[TimeRange, ...]] | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """One administrative service ("Leistung") with everything a citizen asks about."""

    id: str
    name: str
    description: str
    synonyms: tuple[str, ...] = ()
    prerequisites: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    fees: str | None = None
    processing_time: str | None = None
    legal_basis: str | None = None
    online_url: str | None = None
    url: str | None = None
    appointment_url: str | None = None
    office_ids: tuple[str, ...] = ()
    leika: str | None = None
    # Short notes on the form of the answer, e.g. "Termin erforderlich"; free text.
    hints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LifeSituation:
    """A group of services for one event in life (moving, birth of a child, ...)."""

    id: str
    name: str
    description: str
    service_ids: tuple[str, ...]
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Catalogue:
    city: str
    services: dict[str, Service]
    offices: dict[str, Office]
    life_situations: dict[str, LifeSituation] = field(default_factory=dict)
    website: str | None = None
    phone: str | None = None
    # Attribution shown wherever the catalogue's text is shown, e.g.
    # "Datenquelle: Landeshauptstadt München".
    attribution: str | None = None
    # Content hash of the source files, used to decide when indexes are stale.
    fingerprint: str = ""

    def offices_for(self, service_id: str) -> list[Office]:
        service = self.services.get(service_id)
        if service is None:
            return []
        return [self.offices[o] for o in service.office_ids if o in self.offices]

    def services_at(self, office_id: str) -> list[Service]:
        return [s for s in self.services.values() if office_id in s.office_ids]
