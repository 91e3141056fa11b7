"""DLDB importer: the real Munich export, and hand-made (also malformed) exports."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest

from bot.catalogue.dldb import load_dldb, skip_reason
from bot.catalogue.errors import CatalogueError
from bot.catalogue.model import Catalogue

MUNICH = (Path(__file__).resolve().parents[2] / ".." / "shared" / "catalogues"
          / "muenchen-2026-06-08")
MARKUP = re.compile(r"<[A-Za-z/!]|&nbsp;|&amp;|\u200b|\u00a0")


@pytest.fixture(scope="module")
def munich() -> Catalogue:
    if not (MUNICH / "services_de.json").is_file():
        pytest.skip(f"Munich DLDB export not found at {MUNICH} (../shared/ is not checked out)")
    return load_dldb(MUNICH / "services_de.json", MUNICH / "locations_de.json")


# --- Munich -------------------------------------------------------------------------------


def test_munich_loads_fast() -> None:
    if not (MUNICH / "services_de.json").is_file():
        pytest.skip(f"Munich DLDB export not found at {MUNICH}")
    start = time.perf_counter()
    load_dldb(MUNICH / "services_de.json", MUNICH / "locations_de.json")
    assert time.perf_counter() - start < 2.0


def test_munich_city_and_attribution(munich: Catalogue) -> None:
    assert munich.city == "München"
    assert munich.attribution == "Datenquelle: Landeshauptstadt München"
    assert munich.website == "https://muenchen.de"
    assert munich.fingerprint == ""  # set by load_catalogue, not by the importer


def test_munich_passport(munich: Catalogue) -> None:
    passport = munich.services["1063453"]
    assert passport.name == "Reisepass"
    assert "Pass" in passport.synonyms
    assert "Reisepass" not in passport.synonyms
    assert len(passport.office_ids) >= 5
    offices = munich.offices_for("1063453")
    assert "Bürgerbüro Pasing" in {o.name for o in offices}
    assert passport.leika == "99085001000000"
    assert passport.appointment_url == (
        "https://stadt.muenchen.de/en/buergerservice/terminvereinbarung.html/#/services/1063453")
    assert passport.fees is not None and "70 Euro" in passport.fees
    # The only processing time named is the express one, and it says so.
    assert passport.processing_time is not None
    assert passport.processing_time.startswith("Express-Bestellung: ")
    assert "Express-Bestellung" in passport.description


def test_munich_internal_entries_are_excluded(munich: Catalogue) -> None:
    names = {s.name for s in munich.services.values()}
    for internal in ("Testleistung", "Shortlane 15 min", "Shortlane 30 min", "SB Sonstiges",
                     "Dokumentendruck", "Schulterklappentausch", "Helmbeklebung ändern",
                     "Vermessungstermin: Neueinkleidung oder Größenänderung",
                     "Medizinproduktunterweisung - Teil A", "Wartenummer Spontan Anlaufstelle",
                     "Waffenbehörde Sonstiges"):
        assert internal not in names
    assert "10460108" not in munich.services  # "Das ist eine Fake Dienstleistung ..."
    assert "Teststandort" not in {o.name for o in munich.offices.values()}


def test_munich_keeps_the_real_services(munich: Catalogue) -> None:
    # 287 entries: 55 are internal or empty (see the module docstring of bot.catalogue.dldb).
    assert len(munich.services) >= 225
    for name in ("Personalausweis", "Wohnsitzanmeldung", "Wohnsitz abmelden", "Führungszeugnis",
                 "Gewerbe-Anmeldung", "Sterbeurkunde", "Aufenthaltserlaubnis – Studium"):
        assert name in {s.name for s in munich.services.values()}, name


def test_munich_non_public_service_is_kept_without_booking_link(munich: Catalogue) -> None:
    deregister = munich.services["1063486"]  # "Wohnsitz abmelden", public: false
    assert deregister.name == "Wohnsitz abmelden"
    assert deregister.appointment_url is None and deregister.url is None
    assert deregister.fees == "kostenlos"
    assert deregister.office_ids


def test_munich_texts_have_no_markup(munich: Catalogue) -> None:
    for service in munich.services.values():
        for text in (service.description, service.fees or "", service.processing_time or "",
                     *service.documents, *service.prerequisites):
            assert not MARKUP.search(text), (service.id, text[:80])
        # Every kept service tells the citizen something: text, or at least where to go.
        assert service.description or service.synonyms or service.fees or service.office_ids, (
            service.id)


def test_munich_editorial_notes_are_cut(munich: Catalogue) -> None:
    handover = munich.services["10429902"]  # "Waffen- bzw. Munitionsabgabe"
    assert "DL-Finder" not in handover.description
    assert handover.description.startswith("Bürgerinnen und Bürger melden sich")


def test_munich_documents_named_in_sentences(munich: Catalogue) -> None:
    lost_id = munich.services["1076889"]  # Verlust oder Diebstahl Personalausweis
    assert lost_id.documents == (
        "Bitte bringen Sie für diesen ein zusätzliches biometrisches Passfoto mit.",)
    assert munich.services["1063519"].documents == ("Bitte bringen Sie die Benachrichtigung mit.",)


def test_munich_prerequisites_join_the_sentence_a_list_continues(munich: Catalogue) -> None:
    permit = munich.services["1064109"]  # Niederlassungserlaubnis ab 16 Jahren, "Personenkreis:"
    assert permit.prerequisites[0].startswith(
        "Die Niederlassungserlaubnis ab 16 Jahren wird Personen erteilt, die im Bundesgebiet")
    assert "Personenkreis" not in permit.description


def test_munich_fees_and_online_application(munich: Catalogue) -> None:
    trade = munich.services["1063423"]
    assert trade.fees == "50 bis 60 Euro (abhängig von der Rechtsform)"
    assert trade.synonyms[:2] == ("Gewerbebehörde", "Gewerbe anzeigen")
    bafoeg = munich.services["1074970"]
    assert bafoeg.online_url == "https://www.bafoeg-digital.de"
    assert bafoeg.processing_time == (
        "Bitte beachten Sie, dass es mehrere Monate dauern kann, bis der Antrag bearbeitet ist.")
    # A contact form link is not an online application.
    assert munich.services["1063441"].online_url is None


def test_munich_offices(munich: Catalogue) -> None:
    office = munich.offices["10546"]
    assert office.name == "Gewerbeamt"  # displayName, not "Gewerbeamt (KVR-III/21)"
    assert office.address is not None
    assert office.address.one_line() == "Implerstraße 11, 81371 München"
    assert office.geo is not None and 48 < office.geo.lat < 49 and 11 < office.geo.lon < 12
    assert office.phone == "089 233-45141"
    assert office.email == "gewerbemeldung.kvr@muenchen.de"
    assert office.booking_url == (
        "https://stadt.muenchen.de/en/buergerservice/terminvereinbarung.html/#/locations/10546")
    assert office.opening_hours is None and office.district is None and office.url is None
    # A location that is not public keeps its address but gets no booking link.
    assert munich.offices["10469"].booking_url is None
    for service in munich.services.values():
        assert all(o in munich.offices for o in service.office_ids)
    assert all(munich.services_at(o) for o in munich.offices)


# --- hand-made exports --------------------------------------------------------------------


def _location(location_id: str = "100", **extra: Any) -> dict[str, Any]:
    location: dict[str, Any] = {
        "id": location_id, "name": "Bürgerbüro Mitte (AB-1)", "displayName": "Bürgerbüro Mitte",
        "organization": "Stadt Musterstadt", "public": True,
        "meta": {"url": "https://termine.example/#/locations/{locationId}"},
        "address": {"street": "Hauptstraße", "house_number": "1", "postal_code": "12345",
                    "city": "Musterstadt"},
        "geo": {"lat": "50.1", "lon": "8.2"},
        "contact": {"phone": "0123 456", "email": "buergerbuero@musterstadt.example",
                    "webinfo": ""},
        "services": [],
    }
    location.update(extra)
    return location


def _service(service_id: str = "1", **extra: Any) -> dict[str, Any]:
    service: dict[str, Any] = {
        "id": service_id, "name": "Personalausweis", "public": True,
        "description": "<p>Sie erhalten den Ausweis im Bürgerbüro.</p>",
        "meta": {"url": "https://termine.example/#/services/{serviceId}",
                 "keywords": "Ausweis, Perso,  Ausweis , personalausweis, Perso"},
        "appointment": {"link": "https://termine.example/#/services/{serviceId}"},
        "locations": [{"location": "100"}],
        "leika": "99036008007003, 99036008007004",
        "fees": "<p>37&nbsp;Euro</p>",
    }
    service.update(extra)
    return service


def _write(tmp_path: Path, services: Any, locations: Any) -> tuple[Path, Path]:
    services_path, locations_path = tmp_path / "services_de.json", tmp_path / "locations_de.json"
    for path, data in ((services_path, services), (locations_path, locations)):
        path.write_text(data if isinstance(data, str) else json.dumps({"data": data}), "utf-8")
    return services_path, locations_path


def _load(tmp_path: Path, services: Any, locations: Any = None) -> Catalogue:
    return load_dldb(*_write(tmp_path, services, [_location()] if locations is None else locations))


def test_minimal_export(tmp_path: Path) -> None:
    catalogue = _load(tmp_path, [_service()])
    assert catalogue.city == "Musterstadt"
    assert catalogue.attribution == "Datenquelle: Stadt Musterstadt"
    service = catalogue.services["1"]
    assert service.description == "Sie erhalten den Ausweis im Bürgerbüro."
    assert service.synonyms == ("Ausweis", "Perso")  # trimmed, deduplicated, name excluded
    assert service.fees == "37 Euro"
    assert service.url == service.appointment_url == "https://termine.example/#/services/1"
    assert service.office_ids == ("100",)
    assert service.leika == "99036008007003"
    assert (service.documents, service.prerequisites, service.processing_time,
            service.legal_basis, service.online_url) == ((), (), None, None, None)
    office = catalogue.offices["100"]
    assert office.name == "Bürgerbüro Mitte"
    assert office.address is not None and office.address.street == "Hauptstraße 1"
    assert office.geo is not None and (office.geo.lat, office.geo.lon) == (50.1, 8.2)
    assert office.booking_url == "https://termine.example/#/locations/100"


def test_structured_sections_are_extracted(tmp_path: Path) -> None:
    description = (
        "<p>Allgemeines zum Antrag.</p>"
        "<h2>Voraussetzungen</h2><ul><li>Wohnsitz in der Stadt</li></ul>"
        "<p><strong>Erforderliche Unterlagen</strong></p><p>Bitte bringen Sie mit:</p>"
        "<ul><li>Personalausweis</li><li>biometrisches Passfoto</li></ul>"
        "<p>Alle Unterlagen bitte im Original.</p>"
        "<p><strong>Gebühren</strong></p><p>kostenlos</p>"
        "<p><strong>Bearbeitungsdauer</strong></p><p>etwa drei Wochen</p>"
        "<h3>Rechtsgrundlage</h3><p>§ 1 Musterverordnung</p>"
        "<p><strong>Hinweis</strong></p><p>Bringen Sie Zeit mit.</p>")
    service = _load(tmp_path, [_service(description=description, fees=None)]).services["1"]
    assert service.prerequisites == ("Wohnsitz in der Stadt",)
    assert service.documents == ("Personalausweis", "biometrisches Passfoto",
                                 "Alle Unterlagen bitte im Original.")
    assert service.fees == "kostenlos"
    assert service.processing_time == "etwa drei Wochen"
    assert service.legal_basis == "§ 1 Musterverordnung"
    assert service.description == "Allgemeines zum Antrag.\n\nHinweis\n\nBringen Sie Zeit mit."


def test_berlin_style_structured_fields_win(tmp_path: Path) -> None:
    service = _load(tmp_path, [_service(
        id=326069,
        description="Der Unterhaltsvorschuss hilft Alleinerziehenden.\r\nZweite Zeile.",
        requirements=[{"name": "Geburtsurkunde des Kindes", "link": "", "description": ""},
                      {"name": " gültiger Personalausweis/Pass "}, "kaputt"],
        prerequisites=[{"name": "Kind unter zwölf Jahren"}],
        legal=[{"name": "Unterhaltsvorschussgesetz", "link": "http://example/uvg"}],
        process_time="ca. 4 Wochen",
        onlineprocessing={"description": "", "link": "https://online.example/uvg"},
        locations=[{"location": 100}],
    )]).services["326069"]
    assert service.description == "Der Unterhaltsvorschuss hilft Alleinerziehenden.\nZweite Zeile."
    assert service.documents == ("Geburtsurkunde des Kindes", "gültiger Personalausweis/Pass")
    assert service.prerequisites == ("Kind unter zwölf Jahren",)
    assert service.legal_basis == "Unterhaltsvorschussgesetz"
    assert service.processing_time == "ca. 4 Wochen"
    assert service.online_url == "https://online.example/uvg"
    assert service.office_ids == ("100",)


def test_online_url_from_description_link(tmp_path: Path) -> None:
    description = ('<p>Reichen Sie das <a href="https://x.example/antrag.pdf">Antragsformular</a> '
                   '<a href="https://x.example/termin">online</a> oder '
                   '<a href="https://forms.example/antrag">online</a> ein.</p>')
    service = _load(tmp_path, [_service(description=description)]).services["1"]
    assert service.online_url == "https://forms.example/antrag"


def test_non_public_service_gets_no_booking_link(tmp_path: Path) -> None:
    service = _load(tmp_path, [_service(public=False)]).services["1"]
    assert service.appointment_url is None and service.url is None


def test_skip_rule() -> None:
    assert skip_reason(_service(name="Testleistung")) == "internal-name"
    assert skip_reason(_service(name="Shortlane 15 min")) == "internal-name"
    assert skip_reason(_service(name="SB Reisepass")) == "internal-name"
    assert skip_reason(_service(name="Schulterklappentausch")) == "internal-name"
    assert skip_reason(_service(description="<p>Das ist eine Fake Dienstleistung.</p>")) == (
        "internal-note")
    empty = _service(description="<p>\u200b</p>", fees=None, meta={"keywords": ""}, locations=[])
    assert skip_reason(empty) == "empty"
    # Without text but offered at an office: the name and the office still answer citizens.
    assert skip_reason({**empty, "locations": [{"location": "100"}]}) is None
    assert skip_reason(_service(description="", fees=None)) is None  # keywords are content
    assert skip_reason(_service(public=False)) is None  # not public is not internal


def test_skipped_entries_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.catalogue.dldb")
    catalogue = _load(tmp_path, [_service(), _service("2", name="Testleistung"),
                                 _service("3", name="Leer", description="", fees=None, meta={},
                                          locations=[])])
    assert set(catalogue.services) == {"1"}
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("catalogue.dldb.skipped total=2") and "'empty': 1" in m
               and "'internal-name': 1" in m for m in messages)


# --- malformed input ----------------------------------------------------------------------


def _error(tmp_path: Path, services: Any, locations: Any = None) -> str:
    with pytest.raises(CatalogueError) as info:
        _load(tmp_path, services, locations)
    return str(info.value)


def test_invalid_json(tmp_path: Path) -> None:
    message = _error(tmp_path, '{"data": [')
    assert "services_de.json" in message and "keine gültige JSON-Datei" in message


def test_empty_file(tmp_path: Path) -> None:
    assert "Die Datei ist leer" in _error(tmp_path, "  \n")


@pytest.mark.parametrize("document", ['{"meta": {}}', '{"data": {}}', "[]", '"data"'])
def test_missing_data_list(tmp_path: Path, document: str) -> None:
    assert "Liste 'data'" in _error(tmp_path, document)


def test_invalid_locations_file(tmp_path: Path) -> None:
    message = _error(tmp_path, [_service()], "nicht json")
    assert "locations_de.json" in message and "keine gültige JSON-Datei" in message


def test_missing_locations_file(tmp_path: Path) -> None:
    services_path, locations_path = _write(tmp_path, [_service()], [])
    locations_path.unlink()
    with pytest.raises(CatalogueError, match="Datei nicht lesbar"):
        load_dldb(services_path, locations_path)


def test_no_usable_service(tmp_path: Path) -> None:
    assert "keine verwendbare Leistung" in _error(tmp_path, [{"id": "1"}, "x", None])


def test_entries_with_wrong_types_are_skipped_or_tolerated(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    odd = {"id": "2", "name": "Meldebescheinigung", "description": 7,
           "meta": {"keywords": ["Meldebestätigung", 5], "url": 3},
           "locations": "100", "appointment": [], "fees": ["x"], "leika": 99, "links": {"a": 1},
           "forms": [None, {"name": 5, "link": None}], "public": "ja", "authorities": [1]}
    services = [1, "text", None, {"id": None, "name": "x"}, {"id": True, "name": "x"},
                {"id": "3"}, {"id": "4", "name": ""}, _service(), _service(), odd]
    locations = [_location(), {"id": "200"}, "x",
                 _location("300", geo={"lat": "abc", "lon": None}, address="kaputt",
                           contact=None, meta=None, services=[{"service": "2"}, 5],
                           displayName=None)]
    with caplog.at_level(logging.WARNING, logger="bot.catalogue.dldb"):
        catalogue = _load(tmp_path, services, locations)
    assert set(catalogue.services) == {"1", "2"}
    tolerant = catalogue.services["2"]
    assert tolerant.description == "" and tolerant.fees is None and tolerant.leika is None
    assert tolerant.synonyms == ("Meldebestätigung",)
    assert tolerant.url is None and tolerant.online_url is None
    assert tolerant.office_ids == ("300",)  # from the location's side of the relation
    office = catalogue.offices["300"]
    assert office.name == "Bürgerbüro Mitte (AB-1)"  # name when there is no displayName
    assert office.geo is None and office.address is None and office.phone is None
    assert any("catalogue.dldb.invalid_entries" in r.getMessage() for r in caplog.records)


def test_unknown_references_are_ignored(tmp_path: Path) -> None:
    locations = [_location(services=[{"service": "999"}, {"service": "1"}])]
    catalogue = _load(tmp_path, [_service(locations=[{"location": "100"}, {"location": "777"}])],
                      locations)
    assert catalogue.services["1"].office_ids == ("100",)
    assert set(catalogue.offices) == {"100"}


def test_offices_nobody_uses_are_left_out(tmp_path: Path) -> None:
    catalogue = _load(tmp_path, [_service()], [_location(), _location("200")])
    assert set(catalogue.offices) == {"100"}


@pytest.mark.parametrize("geo", [{"lat": "91", "lon": "8"}, {"lat": "0", "lon": "0"},
                                 {"lat": "nan", "lon": "8"}, {"lat": "50"}, []])
def test_invalid_geo_is_none(tmp_path: Path, geo: Any) -> None:
    assert _load(tmp_path, [_service()], [_location(geo=geo)]).offices["100"].geo is None


def test_city_from_organisation_without_addresses(tmp_path: Path) -> None:
    locations = [_location(address={}, organization="Stadt Beispiel")]
    catalogue = _load(tmp_path, [_service()], locations)
    assert catalogue.city == "Beispiel"


def test_city_cannot_be_determined(tmp_path: Path) -> None:
    message = _error(tmp_path, [_service(locations=[])], [])
    assert "Name der Stadt" in message
