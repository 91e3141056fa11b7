"""Opening-hours arithmetic: pure functions over ``Office.opening_hours`` and a given time.

``hours`` maps a weekday to its opening intervals; a weekday missing from the mapping is closed
(the catalogue model's convention). ``dt.time.max`` stands for 24:00. All times are local
wall-clock times of the city; callers pass an aware or naive ``datetime`` consistently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from bot.catalogue.model import TimeRange, Weekday

Hours = Mapping[Weekday, tuple[TimeRange, ...]]

_SHORT_DE = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
_SHORT_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Words for a day as citizens write them -> weekday index, or offset in days from today.
_DAY_WORDS: dict[str, int] = {
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4,
    "samstag": 5, "sonnabend": 5, "sonntag": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
}
_RELATIVE: dict[str, int] = {
    "heute": 0, "today": 0, "jetzt": 0, "now": 0,
    "morgen": 1, "tomorrow": 1, "übermorgen": 2,
}


def intervals_on(hours: Hours, day: dt.date) -> tuple[TimeRange, ...]:
    return tuple(hours.get(Weekday(day.weekday()), ()))


def _contains(interval: TimeRange, t: dt.time) -> bool:
    if interval.end == dt.time.max:
        return interval.start <= t
    return interval.start <= t < interval.end


def current_interval(hours: Hours, at: dt.datetime) -> TimeRange | None:
    """The interval that contains ``at``, if the office is open then."""
    now = at.time().replace(tzinfo=None)
    for interval in intervals_on(hours, at.date()):
        if _contains(interval, now):
            return interval
    return None


def is_open(hours: Hours, at: dt.datetime) -> bool:
    return current_interval(hours, at) is not None


def next_opening(hours: Hours, at: dt.datetime) -> dt.datetime | None:
    """The next moment after ``at`` at which the office opens (within a week), else None."""
    now = at.time().replace(tzinfo=None)
    for offset in range(8):
        day = at.date() + dt.timedelta(days=offset)
        for interval in sorted(intervals_on(hours, day), key=lambda r: r.start):
            if offset == 0 and interval.start <= now:
                continue
            return dt.datetime.combine(day, interval.start, tzinfo=at.tzinfo)
    return None


def resolve_day(word: str, today: dt.date) -> dt.date | None:
    """The date a citizen means by "morgen", "Samstag", "today", ...; the next such weekday
    (today included) for weekday names; None for words we do not know."""
    key = word.strip().lower().removeprefix("am ").strip()
    if key in _RELATIVE:
        return today + dt.timedelta(days=_RELATIVE[key])
    if key in _DAY_WORDS:
        ahead = (_DAY_WORDS[key] - today.weekday()) % 7
        return today + dt.timedelta(days=ahead)
    return None


def fmt_time(t: dt.time) -> str:
    return "24:00" if t == dt.time.max else t.strftime("%H:%M")


def fmt_intervals(intervals: tuple[TimeRange, ...]) -> str:
    return ", ".join(f"{fmt_time(r.start)}–{fmt_time(r.end)}" for r in intervals)


def day_name(day: Weekday, lang: str) -> str:
    return _LONG_EN[day] if lang == "en" else day.german


def week_lines(hours: Hours, lang: str = "de") -> list[str]:
    """One line per run of consecutive days with equal hours: "Mo–Mi 08:00–13:00"."""
    short = _SHORT_EN if lang == "en" else _SHORT_DE
    lines: list[str] = []
    day = 0
    while day < 7:
        intervals = tuple(hours.get(Weekday(day), ()))
        last = day
        while last + 1 < 7 and tuple(hours.get(Weekday(last + 1), ())) == intervals:
            last += 1
        if intervals:
            days = short[day] if last == day else f"{short[day]}–{short[last]}"
            lines.append(f"{days} {fmt_intervals(intervals)}")
        day = last + 1
    return lines


def status_text(hours: Hours, at: dt.datetime, lang: str = "de") -> str:
    """ "Jetzt geöffnet bis 13:00 Uhr." or "Jetzt geschlossen. Wieder geöffnet: Dienstag 08:00 Uhr." """
    interval = current_interval(hours, at)
    if interval is not None:
        if lang == "en":
            return f"Open now until {fmt_time(interval.end)}."
        return f"Jetzt geöffnet bis {fmt_time(interval.end)} Uhr."
    upcoming = next_opening(hours, at)
    if upcoming is None:
        return "No regular opening hours." if lang == "en" else "Keine regelmäßigen Öffnungszeiten."
    if upcoming.date() == at.date():
        when = "today" if lang == "en" else "heute"
    elif upcoming.date() == at.date() + dt.timedelta(days=1):
        when = "tomorrow" if lang == "en" else "morgen"
    else:
        when = day_name(Weekday(upcoming.weekday()), lang)
    if lang == "en":
        return f"Closed now. Opens {when} at {fmt_time(upcoming.time())}."
    return f"Jetzt geschlossen. Wieder geöffnet {when} ab {fmt_time(upcoming.time())} Uhr."


def day_text(hours: Hours, day: dt.date, lang: str = "de") -> str:
    """Hours on one date: "Samstag, 22.11.: 09:00–12:00 Uhr" or "... geschlossen"."""
    name = day_name(Weekday(day.weekday()), lang)
    intervals = intervals_on(hours, day)
    if lang == "en":
        label = f"{name}, {day.strftime('%d/%m')}"
        return f"{label}: {fmt_intervals(intervals)}" if intervals else f"{label}: closed"
    label = f"{name}, {day.strftime('%d.%m.')}"
    return f"{label}: {fmt_intervals(intervals)} Uhr" if intervals else f"{label}: geschlossen"
