import datetime as dt

import pytest

from bot.actions import offices as of
from bot.catalogue import load_catalogue
from bot.catalogue.model import Catalogue, GeoPoint

# Musterstadt: three Bürgerbüros split by postcode (Mitte 12340-42, Nord 12343-45, Süd 12346-49).
SATURDAY_10 = dt.datetime(2026, 11, 21, 10, 0)


@pytest.fixture(scope="module")
def city() -> Catalogue:
    return load_catalogue()


def ids(choice: of.OfficeChoice) -> list[str]:
    return [o.id for o in choice.offices]


def test_postcode_picks_the_responsible_office(city: Catalogue) -> None:
    choice = of.select_offices(city, "reisepass", postcode="12345")
    assert ids(choice) == ["buergerbuero-nord"]
    assert choice.matched_by == of.MatchedBy.POSTCODE


def test_district_picks_the_local_office(city: Catalogue) -> None:
    choice = of.select_offices(city, "personalausweis", district="südviertel")
    assert ids(choice) == ["buergerbuero-sued"]
    assert choice.matched_by == of.MatchedBy.DISTRICT


def test_without_location_all_offices_and_ask_where(city: Catalogue) -> None:
    choice = of.select_offices(city, "reisepass")
    assert len(choice.offices) == 3
    assert choice.needs_location and not choice.unknown_location


def test_unknown_postcode_lists_all_and_says_so(city: Catalogue) -> None:
    choice = of.select_offices(city, "reisepass", postcode="99999")
    assert choice.matched_by == of.MatchedBy.ALL and choice.unknown_location
    assert not choice.needs_location


def test_single_office_service_needs_no_location(city: Catalogue) -> None:
    choice = of.select_offices(city, "fahrzeug-zulassung", postcode="12340")
    assert ids(choice) == ["kfz-zulassungsstelle"]
    assert choice.matched_by == of.MatchedBy.ONLY


def test_coordinates_sort_by_distance(city: Catalogue) -> None:
    near_sued = GeoPoint(50.986, 9.998)
    choice = of.select_offices(city, "reisepass", geo=near_sued)
    assert choice.matched_by == of.MatchedBy.NEAREST
    assert ids(choice)[0] == "buergerbuero-sued"


def test_postcode_of_another_office_locates_the_citizen(city: Catalogue) -> None:
    # The Ferienbetreuung is offered by two offices without postcode areas; 12349 is where the
    # Friedhofsverwaltung is, far south, so the nearer of the two comes first.
    choice = of.select_offices(city, "ferienbetreuung", postcode="12349")
    assert choice.matched_by == of.MatchedBy.NEAREST
    first = choice.offices[0].geo
    second = choice.offices[1].geo
    point = of.locate(city, postcode="12349")
    assert point is not None and first is not None and second is not None
    assert of.distance_km(point, first) <= of.distance_km(point, second)


def test_distance_km_is_haversine() -> None:
    # One degree of latitude is about 111 km.
    assert of.distance_km(GeoPoint(50, 10), GeoPoint(51, 10)) == pytest.approx(111.2, abs=0.2)


@pytest.mark.parametrize(("text", "expected"), [
    ("Öffnungszeiten Bürgerbüro Nord", ["buergerbuero-nord"]),
    ("Wo ist die Zulassungsstelle?", ["kfz-zulassungsstelle"]),
    ("Hat das Standesamt am Samstag offen", ["standesamt"]),
    ("Was kostet ein Reisepass", []),
])
def test_offices_named(city: Catalogue, text: str, expected: list[str]) -> None:
    assert [o.id for o in of.offices_named(city, text)] == expected


def test_offices_named_kind_only_gives_all_of_that_kind(city: Catalogue) -> None:
    found = {o.id for o in of.offices_named(city, "Wann hat das Bürgerbüro offen?")}
    assert found == {"buergerbuero-mitte", "buergerbuero-nord", "buergerbuero-sued"}


def test_describe_puts_address_and_open_status_first(city: Catalogue) -> None:
    text = of.describe(city.offices["buergerbuero-mitte"], SATURDAY_10)
    lines = text.splitlines()
    assert lines[:3] == ["Bürgerbüro Mitte", "Marktplatz 1, 12340 Musterstadt",
                         "Jetzt geöffnet bis 12:00 Uhr."]
    assert lines[3].startswith("Öffnungszeiten: Mo 08:00–13:00")
    assert "Telefon: 0123 456-1000" in lines
    assert any(line.startswith("Termin buchen: https://") for line in lines)


def test_describe_for_a_given_day(city: Catalogue) -> None:
    text = of.describe(city.offices["buergerbuero-mitte"], SATURDAY_10,
                       day=dt.date(2026, 11, 22))
    assert "Sonntag, 22.11.: geschlossen" in text.splitlines()
