import datetime as dt

import pytest

from bot.handoff.hours import HoursError, ServiceHours, format_local

BERLIN_HOURS = ServiceHours.parse("mo-do 08:00-16:00; fr 08:00-12:00, 13:00-14:00",
                                  holidays=("2026-12-24", "2026-12-25"))


def _berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN_HOURS.zone)


@pytest.mark.parametrize("when, open_", [
    (_berlin(2026, 6, 8, 8, 0), True),  # Monday at opening
    (_berlin(2026, 6, 8, 7, 59), False),
    (_berlin(2026, 6, 8, 16, 0), False),  # closing time is closed
    (_berlin(2026, 6, 12, 12, 30), False),  # Friday lunch break
    (_berlin(2026, 6, 12, 13, 30), True),
    (_berlin(2026, 6, 13, 10, 0), False),  # Saturday
    (_berlin(2026, 12, 24, 10, 0), False),  # holiday (a Thursday)
])
def test_is_open(when: dt.datetime, open_: bool) -> None:
    assert BERLIN_HOURS.is_open(when) is open_


def test_is_open_converts_from_utc() -> None:
    # 06:30 UTC is 08:30 in Berlin in summer.
    assert BERLIN_HOURS.is_open(dt.datetime(2026, 6, 8, 6, 30, tzinfo=dt.UTC))


def test_next_opening_skips_weekend_and_holidays() -> None:
    assert BERLIN_HOURS.next_opening(_berlin(2026, 6, 12, 15, 0)) == _berlin(2026, 6, 15, 8, 0)
    assert BERLIN_HOURS.next_opening(_berlin(2026, 6, 12, 12, 15)) == _berlin(2026, 6, 12, 13, 0)
    assert BERLIN_HOURS.next_opening(_berlin(2026, 6, 8, 9, 0)) == _berlin(2026, 6, 8, 9, 0)
    assert BERLIN_HOURS.next_opening(_berlin(2026, 12, 23, 17, 0)) == _berlin(2026, 12, 28, 8, 0)


def test_describe_groups_equal_days() -> None:
    assert BERLIN_HOURS.describe() == ("Mo–Do 08:00–16:00 Uhr; "
                                       "Fr 08:00–12:00, 13:00–14:00 Uhr")
    assert ServiceHours.parse("").describe() == "derzeit keine Servicezeiten"
    assert ServiceHours.parse("mo-so 00:00-24:00").is_open(_berlin(2026, 6, 14, 23, 59))


@pytest.mark.parametrize("text", ["xx 08:00-12:00", "mo 8-12", "mo 12:00-08:00", "fr-mo 08:00-09:00",
                                  "mo", "mo 25:00-26:00"])
def test_bad_hours_raise_german_errors(text: str) -> None:
    with pytest.raises(HoursError, match="Servicezeiten"):
        ServiceHours.parse(text)


def test_bad_holiday() -> None:
    with pytest.raises(HoursError, match="Feiertage"):
        ServiceHours.parse("mo 08:00-12:00", holidays=("24.12.2026",))


def test_format_local() -> None:
    assert format_local(dt.datetime(2026, 6, 8, 6, 30, tzinfo=dt.UTC),
                        BERLIN_HOURS.zone) == "Mo, 08.06. 08:30 Uhr"
