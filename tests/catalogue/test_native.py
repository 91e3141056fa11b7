"""Our own catalogue format (``buergerbot-catalogue/1``): schema and consistency checks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from bot.catalogue.errors import CatalogueError
from bot.catalogue.model import Catalogue, TimeRange, Weekday
from bot.catalogue.native import load_native


def minimal_document() -> dict[str, Any]:
    return {
        "format": "buergerbot-catalogue/1",
        "city": {"name": "Musterstadt", "attribution": "Datenquelle: Stadt Musterstadt"},
        "services": [{
            "id": "personalausweis", "name": "Personalausweis",
            "description": "Den Personalausweis beantragen Sie im Bürgerbüro.",
            "offices": ["bb-mitte"],
        }],
        "offices": [{
            "id": "bb-mitte", "name": "Bürgerbüro Mitte",
            "address": {"street": "Hauptstraße 1", "postal_code": "12345", "city": "Musterstadt"},
            "opening_hours": {"mon": [["08:00", "12:00"], ["13:00", "16:00"]], "sat": []},
        }],
    }


def _load(tmp_path: Path, document: Any) -> Catalogue:
    path = tmp_path / "catalogue.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document), "utf-8")
    return load_native(path)


def _error(tmp_path: Path, document: Any) -> str:
    with pytest.raises(CatalogueError) as info:
        _load(tmp_path, document)
    return str(info.value)


def test_minimal_document_loads(tmp_path: Path) -> None:
    catalogue = _load(tmp_path, minimal_document())
    assert catalogue.city == "Musterstadt"
    assert catalogue.attribution == "Datenquelle: Stadt Musterstadt"
    service = catalogue.services["personalausweis"]
    assert service.office_ids == ("bb-mitte",) and service.documents == ()
    office = catalogue.offices["bb-mitte"]
    assert office.opening_hours == {Weekday.MON: (TimeRange(dt.time(8), dt.time(12)),
                                                  TimeRange(dt.time(13), dt.time(16)))}
    assert catalogue.offices_for("personalausweis") == [office]


def test_24_00_closes_the_day(tmp_path: Path) -> None:
    document = minimal_document()
    document["offices"][0]["opening_hours"] = {"fri": [["20:00", "24:00"]]}
    hours = _load(tmp_path, document).offices["bb-mitte"].opening_hours
    assert hours == {Weekday.FRI: (TimeRange(dt.time(20), dt.time.max),)}


def test_missing_field_names_its_path(tmp_path: Path) -> None:
    document = minimal_document()
    del document["services"][0]["name"]
    message = _error(tmp_path, document)
    assert "$.services[0]: Pflichtfeld 'name' fehlt" in message
    assert "buergerbot-catalogue/1" in message and "catalogue.json" in message


def test_bad_url_names_its_path(tmp_path: Path) -> None:
    document = minimal_document()
    document["services"][0]["url"] = "stadt.example/ausweis"
    message = _error(tmp_path, document)
    assert "$.services[0].url: ungültiger Wert 'stadt.example/ausweis'" in message


def test_bad_time_names_its_path(tmp_path: Path) -> None:
    document = minimal_document()
    document["offices"][0]["opening_hours"]["mon"][0][1] = "25:00"
    assert "$.offices[0].opening_hours.mon[0][1]: ungültiger Wert '25:00'" in _error(
        tmp_path, document)


def test_unknown_field_names_its_path(tmp_path: Path) -> None:
    document = minimal_document()
    document["services"][0]["gebuehr"] = "10 Euro"
    assert "$.services[0]: unbekanntes Feld 'gebuehr'" in _error(tmp_path, document)


def test_messages_are_german_for_ranges_and_counts(tmp_path: Path) -> None:
    document = minimal_document()
    document["offices"][0]["geo"] = {"lat": 100, "lon": 8}
    document["offices"][0]["opening_hours"]["tue"] = [["08:00"]]
    message = _error(tmp_path, document)
    assert "$.offices[0].geo.lat: Wert 100 ist größer als 90" in message
    assert "$.offices[0].opening_hours.tue[0]: zu wenige Einträge (mindestens 2)" in message


def test_wrong_type_and_format(tmp_path: Path) -> None:
    document = minimal_document()
    document["services"][0]["synonyms"] = "Perso"
    document["format"] = "andere/2"
    message = _error(tmp_path, document)
    assert "$.format: muss 'buergerbot-catalogue/1' sein" in message
    assert "$.services[0].synonyms: falscher Typ, erwartet array" in message


def test_unknown_office_reference_is_rejected(tmp_path: Path) -> None:
    document = minimal_document()
    document["services"][0]["offices"].append("bb-nord")
    message = _error(tmp_path, document)
    assert "widersprüchlich" in message
    assert "Leistung 'personalausweis' verweist auf unbekannte Ämter ['bb-nord']" in message


def test_closing_before_opening_is_rejected(tmp_path: Path) -> None:
    document = minimal_document()
    document["offices"][0]["opening_hours"]["wed"] = [["16:00", "08:00"]]
    assert "Amt 'bb-mitte': Öffnungszeit am Mittwoch endet vor dem Beginn" in _error(
        tmp_path, document)


def test_duplicate_ids_and_unknown_life_situation_services(tmp_path: Path) -> None:
    document = minimal_document()
    document["services"].append(dict(document["services"][0]))
    document["life_situations"] = [{"id": "umzug", "name": "Umzug", "description": "Umziehen.",
                                     "services": ["ummeldung"]}]
    message = _error(tmp_path, document)
    assert "doppelte Leistungs-ID 'personalausweis'" in message
    assert "Lebenslage 'umzug' verweist auf unbekannte Leistungen ['ummeldung']" in message


@pytest.mark.parametrize("text", ["", "{", "\xff\xfe"])
def test_invalid_json_is_a_catalogue_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "catalogue.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(CatalogueError, match="keine gültige JSON-Datei"):
        load_native(path)


def test_many_errors_are_capped(tmp_path: Path) -> None:
    document = minimal_document()
    document["services"] = [{"id": f"s{i}"} for i in range(12)]
    message = _error(tmp_path, document)
    assert message.count("\n  - ") == 10 and "weitere Fehler" in message
