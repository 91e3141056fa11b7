"""What a dialogue step produces: messages to send and slots to set. Plain values, no Rasa."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.actions import turn as slots
from bot.catalogue.model import Catalogue
from bot.messages import BotMessage, Button


@dataclass(frozen=True, slots=True)
class Context:
    """What every dialogue step may look at besides the turn: the city and the time."""

    catalogue: Catalogue
    now: dt.datetime

    @property
    def known_services(self) -> frozenset[str]:
        return frozenset(self.catalogue.services)

    def service_name(self, service_id: str) -> str:
        service = self.catalogue.services.get(service_id)
        return service.name if service is not None else service_id


@dataclass(frozen=True, slots=True)
class Reply:
    messages: tuple[BotMessage, ...]
    slots: dict[str, Any] = field(default_factory=dict)


def human_offer_buttons(yes: str, no: str) -> tuple[Button, ...]:
    return (Button(yes, "/affirm"), Button(no, "/deny"))


def topic_slots(lang: str, service_id: str | None = None, aspect: str | None = None,
                **extra: Any) -> dict[str, Any]:
    """Slots after a successful answer: the topic, the language, nothing pending, no misses."""
    out: dict[str, Any] = {slots.LANGUAGE: lang, slots.PENDING: None, slots.MISSES: 0.0}
    if service_id is not None:
        out[slots.SERVICE_ID] = service_id
    if aspect is not None:
        out[slots.ASPECT] = aspect
    out.update(extra)
    return out
