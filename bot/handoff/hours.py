"""Service hours and holidays (pure arithmetic, no I/O).

Written as one line a city can put into its configuration::

    mo-fr 08:00-18:00; sa 09:00-12:00

Days are ``mo di mi do fr sa so`` (German) or ``mo tu we th fr sa su``; a day may have several
intervals (``mo 08:00-12:00,13:00-16:00``). Holidays are dates on which nobody answers.
Times are local to the city's time zone; callers pass aware datetimes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_DAYS = {
    "mo": 0, "di": 1, "tu": 1, "mi": 2, "we": 2, "do": 3, "th": 3, "fr": 4,
    "sa": 5, "so": 6, "su": 6,
}
_GERMAN_DAY = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class HoursError(ValueError):
    """The service-hours text cannot be read; the message is German."""


Interval = tuple[dt.time, dt.time]


@dataclass(frozen=True, slots=True)
class ServiceHours:
    """Opening intervals per weekday (0 = Monday) plus closed dates."""

    week: tuple[tuple[Interval, ...], ...]  # seven entries
    holidays: frozenset[dt.date] = frozenset()
    timezone: str = "Europe/Berlin"

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise HoursError("Servicezeiten brauchen genau sieben Wochentage")
        ZoneInfo(self.timezone)  # raises for an unknown zone

    @classmethod
    def parse(cls, text: str, holidays: tuple[str, ...] = (),
              timezone: str = "Europe/Berlin") -> ServiceHours:
        week: list[list[Interval]] = [[] for _ in range(7)]
        for part in filter(None, (p.strip() for p in text.split(";"))):
            try:
                days, spans = part.split(None, 1)
            except ValueError as err:
                raise HoursError(f"Servicezeiten: {part!r} braucht Tage und Uhrzeiten") from err
            for day in _day_range(days):
                for span in spans.replace(" ", "").split(","):
                    week[day].append(_interval(span))
        try:
            closed = frozenset(dt.date.fromisoformat(h.strip()) for h in holidays if h.strip())
        except ValueError as err:
            raise HoursError(f"Feiertage: ungültiges Datum ({err})") from err
        return cls(tuple(tuple(sorted(d)) for d in week), closed, timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open(self, when: dt.datetime) -> bool:
        local = when.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        now = local.time()
        return any(start <= now < end for start, end in self.week[local.weekday()])

    def next_opening(self, when: dt.datetime, horizon_days: int = 31) -> dt.datetime | None:
        """The next moment (aware, local zone) at or after ``when`` when someone answers."""
        local = when.astimezone(self.zone)
        for offset in range(horizon_days + 1):
            day = local.date() + dt.timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, end in self.week[day.weekday()]:
                opening = dt.datetime.combine(day, start, tzinfo=self.zone)
                closing = dt.datetime.combine(day, end, tzinfo=self.zone)
                if closing <= local:
                    continue
                return max(opening, local)
        return None

    def describe(self) -> str:
        """German summary for citizens, e.g. ``Mo–Fr 08:00–18:00 Uhr``."""
        groups: list[tuple[int, int, tuple[Interval, ...]]] = []
        for day, spans in enumerate(self.week):
            if not spans:
                continue
            if groups and groups[-1][2] == spans and groups[-1][1] == day - 1:
                groups[-1] = (groups[-1][0], day, spans)
            else:
                groups.append((day, day, spans))
        if not groups:
            return "derzeit keine Servicezeiten"
        parts = []
        for first, last, spans in groups:
            days = _GERMAN_DAY[first] if first == last else f"{_GERMAN_DAY[first]}–{_GERMAN_DAY[last]}"
            times = ", ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in spans)
            parts.append(f"{days} {times} Uhr")
        return "; ".join(parts)


def _day_range(text: str) -> list[int]:
    out: list[int] = []
    for item in text.lower().split(","):
        if "-" in item:
            first, last = (_day(x) for x in item.split("-", 1))
            if last < first:
                raise HoursError(f"Servicezeiten: Tagesbereich {item!r} ist rückwärts")
            out.extend(range(first, last + 1))
        else:
            out.append(_day(item))
    return out


def _day(text: str) -> int:
    key = text.strip()[:2]
    if key not in _DAYS:
        raise HoursError(f"Servicezeiten: unbekannter Wochentag {text!r}")
    return _DAYS[key]


def _interval(text: str) -> Interval:
    match = _INTERVAL.fullmatch(text)
    if not match:
        raise HoursError(f"Servicezeiten: {text!r} ist kein Zeitraum wie 08:00-16:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start = dt.time(h1, m1)
        end = dt.time(23, 59, 59, 999999) if (h2, m2) == (24, 0) else dt.time(h2, m2)
    except ValueError as err:
        raise HoursError(f"Servicezeiten: ungültige Uhrzeit in {text!r}") from err
    if end <= start:
        raise HoursError(f"Servicezeiten: {text!r} endet vor dem Beginn")
    return start, end


def format_local(when: dt.datetime, zone: ZoneInfo) -> str:
    """German date and time, e.g. ``Di, 03.03. 10:00 Uhr``."""
    local = when.astimezone(zone)
    return f"{_GERMAN_DAY[local.weekday()]}, {local:%d.%m.} {local:%H:%M} Uhr"
