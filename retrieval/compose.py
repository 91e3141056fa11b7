"""Answers in short plain German ("Sie"), composed from the catalogue's fields. Pure.

- :func:`compose_answer`: key facts for the asked aspect first, then the link; the source names
  the service; when the catalogue lacks the asked field the answer says so and points to the
  info page or the office. The catalogue's attribution is the last line.
- :func:`compose_clarify`: "Meinen Sie …?" with one button per candidate service.
- :func:`compose_abstain`: nothing found, offer a person.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from bot.catalogue.model import Catalogue, Office, Service
from bot.messages import BotMessage, Button, Source
from retrieval.api import Aspect, Hit

__all__ = [
    "ABSTAIN_TEXT",
    "HANDOFF_PAYLOAD",
    "compose_abstain",
    "compose_answer",
    "compose_clarify",
    "extract_documents",
]

ABSTAIN_TEXT = (
    "Dazu habe ich in den Informationen der Stadt leider nichts gefunden. "
    "Möchten Sie mit einer Mitarbeiterin oder einem Mitarbeiter sprechen?"
)
HANDOFF_PAYLOAD = "/request_human"
DENY_PAYLOAD = "/deny"
_MAX_FACT_CHARS = 600
_MAX_OFFICES = 3
_DOC_CUES = re.compile(
    r"(unterlagen|mitbring|mitzubringen|vorleg|dokument|nachweis|bescheinigung|lichtbild|"
    r"passfoto|ausweis|urkunde|formular|antrag)", re.IGNORECASE)


def _shorten(text: str, limit: int = _MAX_FACT_CHARS) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    cut = cut + 1 if cut > limit // 2 else text.rfind(" ", 0, limit)
    return text[: max(cut, 1)].rstrip() + " …"


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item.strip()}" for item in items if item.strip())


def extract_documents(description: str) -> list[str]:
    """Sentences or list items of a description that name documents to bring (DLDB exports
    carry no document list)."""
    out: list[str] = []
    for block in re.split(r"\n+", description):
        block = block.strip().lstrip("-• ").strip()
        if not block:
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", block):
            if _DOC_CUES.search(sentence) and 15 <= len(sentence) <= 300:
                out.append(sentence.strip())
    return out[:6]


def _link_line(service: Service) -> str | None:
    if service.url:
        return f"Mehr Informationen: {service.url}"
    return None


def _office_line(office: Office) -> str:
    parts = [office.name]
    if office.address is not None:
        parts.append(office.address.one_line())
    if office.phone:
        parts.append(f"Tel. {office.phone}")
    return ", ".join(parts)


def _fallback(service: Service, catalogue: Catalogue, what: str) -> str:
    target = "auf der Informationsseite" if service.url else "bei der zuständigen Stelle"
    offices = catalogue.offices_for(service.id)
    if not service.url and offices:
        target = f"bei {offices[0].name}"
    return (f"Zu {what} für „{service.name}“ habe ich in den Informationen der Stadt keine "
            f"Angaben gefunden. Bitte fragen Sie {target} nach.")


def _general(service: Service) -> list[str]:
    lines: list[str] = []
    if service.description.strip():
        first = re.split(r"\n\s*\n", service.description.strip())[0]
        lines.append(_shorten(first, 400))
    if service.fees:
        lines.append(f"Kosten: {_shorten(service.fees.splitlines()[0], 160)}")
    return lines


def _facts(catalogue: Catalogue, service: Service, aspect: Aspect) -> list[str]:
    if aspect is Aspect.FEES:
        if service.fees:
            return [f"Kosten für „{service.name}“:", _shorten(service.fees)]
        return [_fallback(service, catalogue, "den Kosten")]
    if aspect is Aspect.DOCUMENTS:
        docs = list(service.documents) or extract_documents(service.description)
        if docs:
            return [f"Für „{service.name}“ brauchen Sie:", _bullets(docs)]
        return [_fallback(service, catalogue, "den nötigen Unterlagen")]
    if aspect is Aspect.PROCESSING_TIME:
        if service.processing_time:
            return [f"Bearbeitungsdauer für „{service.name}“: {_shorten(service.processing_time)}"]
        return [_fallback(service, catalogue, "der Bearbeitungsdauer")]
    if aspect is Aspect.PREREQUISITES:
        if service.prerequisites:
            return [f"Voraussetzungen für „{service.name}“:", _bullets(service.prerequisites)]
        return [_fallback(service, catalogue, "den Voraussetzungen")]
    if aspect is Aspect.ONLINE:
        if service.online_url:
            return [f"„{service.name}“ können Sie online erledigen: {service.online_url}"]
        return [(f"Für „{service.name}“ habe ich keinen Online-Antrag gefunden. "
                 "Bitte prüfen Sie die Informationsseite oder wenden Sie sich an das Amt.")]
    if aspect is Aspect.APPOINTMENT:
        if service.appointment_url:
            return [f"Einen Termin für „{service.name}“ buchen Sie hier: {service.appointment_url}"]
        return [_fallback(service, catalogue, "der Terminvergabe")]
    if aspect is Aspect.OFFICE:
        offices = catalogue.offices_for(service.id)
        if offices:
            lines = [f"„{service.name}“ erledigen Sie hier:"]
            lines.append(_bullets([_office_line(o) for o in offices[:_MAX_OFFICES]]))
            if len(offices) > _MAX_OFFICES:
                lines.append(f"(und an {len(offices) - _MAX_OFFICES} weiteren Standorten)")
            return lines
        return [_fallback(service, catalogue, "der zuständigen Stelle")]
    return [f"{service.name}:", *_general(service)]


def compose_answer(catalogue: Catalogue, service_id: str, aspect: Aspect) -> BotMessage:
    """The answer about one service and aspect, with its link, source and attribution."""
    service = catalogue.services.get(service_id)
    if service is None:
        return compose_abstain(catalogue)
    lines = _facts(catalogue, service, aspect)
    link = _link_line(service)
    if link:
        lines.append(link)
    if catalogue.attribution:
        lines.append(catalogue.attribution)
    return BotMessage(
        text="\n".join(line for line in lines if line),
        sources=(Source(service_id=service.id, title=service.name, url=service.url),),
        extra={"service_id": service.id, "aspect": aspect.value},
    )


def choose_payload(service_id: str) -> str:
    """The Rasa intent payload of a clarify button."""
    return "/choose_service" + json.dumps({"service_id": service_id}, ensure_ascii=False)


def compose_clarify(catalogue: Catalogue, hits: Sequence[Hit], limit: int = 3) -> BotMessage:
    """Ask which of the close candidates is meant; one button per service."""
    services = [catalogue.services[h.service_id] for h in hits
                if h.service_id in catalogue.services][:limit]
    if not services:
        return compose_abstain(catalogue)
    buttons = tuple(Button(title=s.name, payload=choose_payload(s.id)) for s in services)
    return BotMessage(
        text="Dazu habe ich mehrere passende Leistungen gefunden. Welche meinen Sie?",
        buttons=buttons + (Button(title="Keine davon", payload=HANDOFF_PAYLOAD),),
        sources=tuple(Source(service_id=s.id, title=s.name, url=s.url) for s in services),
    )


def compose_abstain(catalogue: Catalogue | None = None) -> BotMessage:
    """Nothing suitable in the catalogue: say so and offer a person."""
    return BotMessage(
        text=ABSTAIN_TEXT,
        buttons=(
            Button(title="Ja, bitte verbinden", payload=HANDOFF_PAYLOAD),
            Button(title="Nein, danke", payload=DENY_PAYLOAD),
        ),
    )
