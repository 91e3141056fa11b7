import datetime as dt

from bot.actions import hours as oh
from bot.catalogue.model import TimeRange, Weekday


def t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


# Mon 08-13, Tue 08-12 + 14-18, Sat 09-12; closed otherwise. 2026-11-23 is a Monday.
HOURS = {
    Weekday.MON: (TimeRange(t("08:00"), t("13:00")),),
    Weekday.TUE: (TimeRange(t("08:00"), t("12:00")), TimeRange(t("14:00"), t("18:00"))),
    Weekday.SAT: (TimeRange(t("09:00"), t("12:00")),),
}
MONDAY = dt.date(2026, 11, 23)


def at(day_offset: int, clock: str) -> dt.datetime:
    return dt.datetime.combine(MONDAY + dt.timedelta(days=day_offset), t(clock))


def test_open_inside_an_interval_and_closed_at_its_end() -> None:
    assert oh.is_open(HOURS, at(0, "08:00"))
    assert oh.is_open(HOURS, at(0, "12:59"))
    assert not oh.is_open(HOURS, at(0, "13:00"))
    assert not oh.is_open(HOURS, at(0, "07:59"))


def test_lunch_break_is_closed() -> None:
    assert oh.is_open(HOURS, at(1, "11:00"))
    assert not oh.is_open(HOURS, at(1, "13:00"))
    assert oh.is_open(HOURS, at(1, "14:00"))


def test_day_missing_from_mapping_is_closed() -> None:
    assert not oh.is_open(HOURS, at(2, "10:00"))


def test_open_until_midnight() -> None:
    hours = {Weekday.MON: (TimeRange(t("20:00"), dt.time.max),)}
    assert oh.is_open(hours, at(0, "23:59"))
    assert oh.week_lines(hours) == ["Mo 20:00–24:00"]


def test_next_opening_same_day_after_break() -> None:
    assert oh.next_opening(HOURS, at(1, "12:30")) == at(1, "14:00")


def test_next_opening_skips_closed_days() -> None:
    assert oh.next_opening(HOURS, at(1, "18:00")) == at(5, "09:00")


def test_next_opening_wraps_to_next_week() -> None:
    assert oh.next_opening(HOURS, at(5, "12:00")) == at(7, "08:00")


def test_next_opening_without_any_hours() -> None:
    assert oh.next_opening({}, at(0, "10:00")) is None


def test_status_text_open_and_closed() -> None:
    assert oh.status_text(HOURS, at(0, "09:00")) == "Jetzt geöffnet bis 13:00 Uhr."
    assert oh.status_text(HOURS, at(0, "14:00")) == (
        "Jetzt geschlossen. Wieder geöffnet morgen ab 08:00 Uhr.")
    assert oh.status_text(HOURS, at(1, "12:30")) == (
        "Jetzt geschlossen. Wieder geöffnet heute ab 14:00 Uhr.")
    assert oh.status_text(HOURS, at(2, "10:00")) == (
        "Jetzt geschlossen. Wieder geöffnet Samstag ab 09:00 Uhr.")
    assert oh.status_text(HOURS, at(0, "09:00"), "en") == "Open now until 13:00."
    assert oh.status_text({}, at(0, "09:00")) == "Keine regelmäßigen Öffnungszeiten."


def test_aware_datetimes_work_too() -> None:
    from zoneinfo import ZoneInfo

    now = at(0, "09:00").replace(tzinfo=ZoneInfo("Europe/Berlin"))
    assert oh.is_open(HOURS, now)
    assert oh.next_opening(HOURS, now) == at(1, "08:00").replace(tzinfo=now.tzinfo)


def test_week_lines_group_equal_days() -> None:
    hours = {d: (TimeRange(t("08:00"), t("12:00")),) for d in (Weekday.MON, Weekday.TUE,
                                                              Weekday.WED)}
    hours[Weekday.FRI] = (TimeRange(t("08:00"), t("12:00")),)
    assert oh.week_lines(hours) == ["Mo–Mi 08:00–12:00", "Fr 08:00–12:00"]
    assert oh.week_lines(hours, "en") == ["Mon–Wed 08:00–12:00", "Fri 08:00–12:00"]


def test_resolve_day_words() -> None:
    assert oh.resolve_day("heute", MONDAY) == MONDAY
    assert oh.resolve_day("morgen", MONDAY) == MONDAY + dt.timedelta(days=1)
    assert oh.resolve_day("übermorgen", MONDAY) == MONDAY + dt.timedelta(days=2)
    assert oh.resolve_day("Samstag", MONDAY) == MONDAY + dt.timedelta(days=5)
    assert oh.resolve_day("am Montag", MONDAY) == MONDAY
    assert oh.resolve_day("Sonnabend", MONDAY) == MONDAY + dt.timedelta(days=5)
    assert oh.resolve_day("tomorrow", MONDAY) == MONDAY + dt.timedelta(days=1)
    assert oh.resolve_day("irgendwann", MONDAY) is None


def test_day_text() -> None:
    assert oh.day_text(HOURS, MONDAY + dt.timedelta(days=1)) == (
        "Dienstag, 24.11.: 08:00–12:00, 14:00–18:00 Uhr")
    assert oh.day_text(HOURS, MONDAY + dt.timedelta(days=6)) == "Sonntag, 29.11.: geschlossen"
    assert oh.day_text(HOURS, MONDAY, "en") == "Monday, 23/11: 08:00–13:00"
