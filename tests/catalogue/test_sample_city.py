"""The bundled sample city Musterstadt (bot/sample_city/musterstadt.json) meets the issue's bar."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.catalogue import Catalogue, default_catalogue_path, load_catalogue
from bot.catalogue.model import Weekday
from retrieval.api import Aspect

DOMAIN = "musterstadt.example"

# Topics citizens ask about most; each must exist under a stable id.
MUST_HAVE = [
    "personalausweis", "reisepass", "kinderreisepass", "vorlaeufiger-reisepass",
    "vorlaeufiger-personalausweis", "ausweis-verlust",
    "wohnsitz-anmeldung", "wohnsitz-ummeldung", "wohnsitz-abmeldung", "meldebescheinigung",
    "melderegisterauskunft", "fuehrungszeugnis",
    "geburtsurkunde", "eheurkunde", "sterbeurkunde", "geburt-beurkundung",
    "vaterschaftsanerkennung", "namensaenderung", "eheschliessung-anmeldung",
    "sterbefall-anzeige", "grabstelle",
    "hundesteuer-anmeldung", "hundesteuer-abmeldung", "sperrmuell", "abfallbehaelter",
    "wohngeld", "bewohnerparkausweis",
    "gewerbe-anmeldung", "gewerbe-ummeldung", "gewerbe-abmeldung", "gaststaettenerlaubnis",
    "fahrzeug-zulassung", "fahrzeug-abmeldung", "fahrzeug-umschreibung", "wunschkennzeichen",
    "fuehrerschein-ersterteilung", "fuehrerschein-umtausch", "fuehrerschein-international",
    "fuehrerschein-ausland",
    "fundsachen", "bauberatung", "baugenehmigung", "kita-platz", "elterngeld",
    "einbuergerung", "aufenthaltserlaubnis", "niederlassungserlaubnis",
    "verpflichtungserklaerung",
    "veranstaltung-anmeldung", "sondernutzung-strasse", "halteverbot", "briefwahl",
    "beglaubigung", "kirchenaustritt", "schwerbehindertenausweis", "parkausweis-behinderte",
    "fischereischein", "waffen", "lebensbescheinigung", "rentenantrag", "grundsteuer",
    "zweitwohnungsteuer", "hausnummer", "baumfaellung", "laermbeschwerde", "schulanmeldung",
    "ferienbetreuung", "bibliotheksausweis", "buergerservice",
]

MUST_HAVE_SITUATIONS = ["umzug", "geburt", "heirat", "todesfall", "existenzgruendung", "hund",
                        "neu-in-deutschland"]

BUERGERBUEROS = ["buergerbuero-mitte", "buergerbuero-nord", "buergerbuero-sued"]

QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "musterstadt_questions.jsonl"

_URL = re.compile(r"https?://[^\s\"]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w.-]+")


@cache
def catalogue() -> Catalogue:
    return load_catalogue()


def test_default_path_is_the_sample_city_and_loads() -> None:
    assert default_catalogue_path().name == "musterstadt.json"
    cat = catalogue()
    assert cat.city == "Musterstadt"
    assert cat.website == "https://www.musterstadt.example"
    assert cat.phone == "115"
    assert cat.fingerprint


def test_counts() -> None:
    cat = catalogue()
    assert len(cat.services) >= 60
    assert len(cat.offices) >= 8
    assert len(cat.life_situations) >= 6


def test_every_service_is_complete() -> None:
    incomplete = []
    for s in catalogue().services.values():
        if not (s.name and s.description and s.documents and s.fees and s.processing_time
                and s.legal_basis and s.office_ids and s.url and s.synonyms):
            incomplete.append(s.id)
    assert incomplete == []


def test_descriptions_are_a_few_sentences() -> None:
    for s in catalogue().services.values():
        text = s.description.replace("z. B.", "zB")
        # A sentence ends after a letter and before a capital: "1. März" is no sentence end.
        sentences = re.split(r"(?<=[^\W\d][.!?])\s+(?=[A-ZÄÖÜ])", text)
        assert 2 <= len(sentences) <= 5, (s.id, len(sentences))


def test_must_have_services_exist() -> None:
    missing = [sid for sid in MUST_HAVE if sid not in catalogue().services]
    assert missing == []


def test_identity_and_registration_are_offered_in_every_buergerbuero() -> None:
    cat = catalogue()
    for sid in ["personalausweis", "reisepass", "wohnsitz-anmeldung", "wohnsitz-ummeldung",
                "meldebescheinigung", "fuehrungszeugnis", "beglaubigung"]:
        assert set(BUERGERBUEROS) <= set(cat.services[sid].office_ids), sid


def test_every_office_has_hours_phone_and_email() -> None:
    for office in catalogue().offices.values():
        hours = office.opening_hours or {}
        weekdays = [d for d in hours if d <= Weekday.FRI and hours[d]]
        assert len(weekdays) >= 4, office.id
        assert office.phone, office.id
        assert office.email, office.id
        assert office.address is not None and office.address.city == "Musterstadt"
        assert office.geo is not None, office.id


def test_every_office_serves_some_service() -> None:
    cat = catalogue()
    idle = [o for o in cat.offices if not cat.services_at(o)]
    assert idle == []


def test_every_url_and_email_uses_the_reserved_domain() -> None:
    text = default_catalogue_path().read_text("utf-8")
    urls = _URL.findall(text)
    assert len(urls) > 100
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme == "https", url
        assert parts.hostname, url
        assert parts.hostname == DOMAIN or parts.hostname.endswith("." + DOMAIN), url
    emails = _EMAIL.findall(text)
    assert emails
    for email in emails:
        assert email.endswith("@" + DOMAIN), email


def test_service_info_pages_follow_the_id() -> None:
    for s in catalogue().services.values():
        assert s.url == f"https://www.musterstadt.example/leistungen/{s.id}"


def test_life_situations_reference_existing_services() -> None:
    cat = catalogue()
    for sid in MUST_HAVE_SITUATIONS:
        assert sid in cat.life_situations
    for situation in cat.life_situations.values():
        assert situation.description and situation.synonyms, situation.id
        assert situation.service_ids, situation.id
        assert set(situation.service_ids) <= set(cat.services), situation.id


def test_buergerbuero_postal_codes_do_not_overlap_and_cover_the_city() -> None:
    cat = catalogue()
    seen: dict[str, str] = {}
    for oid in BUERGERBUEROS:
        codes = cat.offices[oid].postal_codes
        assert codes, oid
        for code in codes:
            assert code not in seen, (code, seen.get(code), oid)
            seen[code] = oid
    city_codes = {o.address.postal_code for o in cat.offices.values() if o.address}
    assert city_codes <= set(seen)


def _questions() -> list[dict[str, Any]]:
    lines = QUESTIONS.read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_question_set_is_well_formed_and_large_enough() -> None:
    rows = _questions()
    aspects = {a.value for a in Aspect}
    for row in rows:
        assert set(row) <= {"question", "service_ids", "aspect"}, row
        assert isinstance(row["question"], str) and row["question"].strip(), row
        assert isinstance(row["service_ids"], list), row
        assert row.get("aspect", "general") in aspects, row
    answerable = [r for r in rows if r["service_ids"]]
    unanswerable = [r for r in rows if not r["service_ids"]]
    assert len(answerable) >= 160
    assert len(unanswerable) >= 30
    questions = [r["question"].casefold() for r in rows]
    assert len(set(questions)) == len(questions), "duplicate questions"


def test_question_set_only_names_existing_services() -> None:
    services = catalogue().services
    unknown = {sid for row in _questions() for sid in row["service_ids"] if sid not in services}
    assert unknown == set()
