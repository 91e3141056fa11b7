"""Answers in Leichte Sprache (easy German): one short fact per line, the key fact first.

Built from the catalogue's fields rather than its prose: the catalogue text itself is not in
Leichte Sprache, so we give the name, then the one fact asked for, split into short lines.
"""

from __future__ import annotations

import re

from bot.catalogue.model import Catalogue, Service
from bot.messages import BotMessage, Source
from retrieval.api import Aspect

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÄÖÜ0-9])")
MAX_ITEMS = 4


def sentences(text: str) -> list[str]:
    parts = (s.strip() for s in _SENTENCE_END.split(text.strip()))
    return [p.removesuffix(";") + "." if p.endswith(";") else p for p in parts if p]


def _items(title: str, items: tuple[str, ...] | list[str]) -> list[str]:
    return [title, *(f"- {i}" for i in items[:MAX_ITEMS])]


def simple_lines(service: Service, aspect: Aspect) -> list[str]:
    lines = [f"Es geht um: {service.name}."]
    if aspect == Aspect.FEES:
        lines += ["Das kostet:", *sentences(service.fees)] if service.fees else [
            "Zu den Kosten weiß ich nichts."]
    elif aspect == Aspect.DOCUMENTS:
        lines += _items("Das müssen Sie mitbringen:", service.documents) if service.documents \
            else ["Dazu weiß ich nichts."]
    elif aspect == Aspect.PROCESSING_TIME:
        lines += ["So lange dauert es:", *sentences(service.processing_time)] \
            if service.processing_time else ["Wie lange es dauert, weiß ich nicht."]
    elif aspect == Aspect.PREREQUISITES:
        lines += _items("Das ist wichtig:", service.prerequisites) if service.prerequisites \
            else ["Dazu weiß ich nichts."]
    elif aspect == Aspect.ONLINE:
        lines += ["Das geht im Internet.", f"Hier: {service.online_url}"] if service.online_url \
            else ["Das geht nicht im Internet.", "Sie müssen zum Amt gehen."]
    elif aspect == Aspect.APPOINTMENT:
        if service.appointment_url:
            lines += ["Sie brauchen einen Termin.",
                      f"Den Termin machen Sie hier: {service.appointment_url}"]
        else:
            lines += ["Fragen Sie beim Amt nach einem Termin."]
    else:
        lines += sentences(service.description)[:2]
        if service.documents:
            lines += _items("Das müssen Sie mitbringen:", service.documents[:2])
        if service.fees:
            lines += ["Das kostet:", sentences(service.fees)[0]]
    return lines


def simple_answer(catalogue: Catalogue, service_id: str, aspect: Aspect) -> BotMessage:
    service = catalogue.services[service_id]
    return BotMessage("\n".join(simple_lines(service, aspect)),
                      sources=(Source(service.id, service.name, service.url),))
