"""Composed answers, clarify and abstain messages."""

from __future__ import annotations

import json

from bot.catalogue.model import Address, Catalogue, Office, Service
from bot.messages import BotMessage
from retrieval.api import Aspect, Hit
from retrieval.compose import (
    ABSTAIN_TEXT,
    compose_abstain,
    compose_answer,
    compose_clarify,
    extract_documents,
)


def _catalogue() -> Catalogue:
    services = {
        "1063453": Service(
            id="1063453", name="Reisepass", description="Den Reisepass beantragen Sie im "
            "Bürgerbüro.\n\nBitte bringen Sie ein biometrisches Passfoto und Ihren alten Pass "
            "mit.", fees="- Unter 24 Jahren: 37,50 Euro\n- Über 24 Jahren: 70 Euro",
            url="https://example.org/reisepass", office_ids=("o1",),
            appointment_url="https://example.org/termin"),
        "2": Service(id="2", name="Personalausweis", description="Ausweis.",
                     url=None, office_ids=()),
    }
    offices = {"o1": Office(id="o1", name="Bürgerbüro Mitte",
                            address=Address("Marktplatz 1", "12345", "Musterstadt"),
                            phone="0123 456")}
    return Catalogue(city="Musterstadt", services=services, offices=offices,
                     attribution="Datenquelle: Landeshauptstadt München")


def test_fee_answer_key_facts_link_source_attribution() -> None:
    msg = compose_answer(_catalogue(), "1063453", Aspect.FEES)
    lines = msg.text.splitlines()
    assert "37,50 Euro" in msg.text
    assert lines[-1] == "Datenquelle: Landeshauptstadt München"
    assert lines[-2] == "Mehr Informationen: https://example.org/reisepass"
    assert msg.sources[0].service_id == "1063453" and msg.sources[0].title == "Reisepass"
    assert msg.sources[0].url == "https://example.org/reisepass"
    assert BotMessage.from_wire(msg.to_wire()) == msg


def test_documents_from_description_when_no_list() -> None:
    msg = compose_answer(_catalogue(), "1063453", Aspect.DOCUMENTS)
    assert "Passfoto" in msg.text
    assert extract_documents("Kein Hinweis hier.") == []


def test_missing_field_is_said_and_points_to_office_or_page() -> None:
    msg = compose_answer(_catalogue(), "1063453", Aspect.PROCESSING_TIME)
    assert "keine Angaben" in msg.text and "Informationsseite" in msg.text
    msg = compose_answer(_catalogue(), "2", Aspect.FEES)
    assert "keine Angaben" in msg.text and "zuständigen Stelle" in msg.text


def test_office_and_appointment_answers() -> None:
    office = compose_answer(_catalogue(), "1063453", Aspect.OFFICE)
    assert "Bürgerbüro Mitte, Marktplatz 1, 12345 Musterstadt" in office.text
    appointment = compose_answer(_catalogue(), "1063453", Aspect.APPOINTMENT)
    assert "https://example.org/termin" in appointment.text


def test_clarify_buttons_carry_rasa_payloads() -> None:
    msg = compose_clarify(_catalogue(), [Hit("1063453", 2.0), Hit("2", 1.9), Hit("gone", 1.0)])
    titles = [b.title for b in msg.buttons]
    assert titles[:2] == ["Reisepass", "Personalausweis"]
    payload = msg.buttons[0].payload
    assert payload.startswith("/choose_service")
    assert json.loads(payload[len("/choose_service"):]) == {"service_id": "1063453"}


def test_abstain_offers_a_person() -> None:
    msg = compose_abstain(_catalogue())
    assert msg.text == ABSTAIN_TEXT
    assert [b.payload for b in msg.buttons] == ["/request_human", "/deny"]
    assert compose_answer(_catalogue(), "unknown", Aspect.GENERAL).text == ABSTAIN_TEXT
