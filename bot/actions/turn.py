"""What the actions need from Rasa's tracker, as one plain value (the seam to rasa_sdk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.catalogue.model import GeoPoint
from bot.nlu.language import detect_language

# Slot names shared by domain.yml, the actions and the gateway's documentation.
SERVICE_ID = "service_id"
ASPECT = "aspect"
LANGUAGE = "language"
SIMPLE_LANGUAGE = "simple_language"
POSTCODE = "postcode"
DISTRICT = "district"
PENDING = "pending"
MISSES = "misses"


@dataclass(frozen=True, slots=True)
class Turn:
    """The latest user message with its NLU result and the conversation's slots."""

    text: str
    intent: str
    entities: dict[str, tuple[str, ...]] = field(default_factory=dict)
    service_id: str | None = None  # slot: the current service
    aspect: str | None = None  # slot: the current aspect
    language: str = "de"
    simple_language: bool = False
    postcode: str | None = None
    district: str | None = None
    misses: int = 0
    pending: str | None = None  # slot: an offer a plain "ja"/"nein" answers ("human")
    geo: GeoPoint | None = None  # from message metadata {"geo": {"lat": .., "lon": ..}}
    # The citizen's earlier messages (oldest first) and the services discussed so far.
    history: tuple[str, ...] = ()
    services_discussed: tuple[str, ...] = ()

    def first(self, entity: str) -> str | None:
        values = self.entities.get(entity)
        return values[0] if values else None

    @property
    def is_payload(self) -> bool:
        return self.text.startswith("/")

    @property
    def reply_language(self) -> str:
        """English answers to English questions; button payloads keep the current language."""
        return self.language if self.is_payload else detect_language(self.text)


def _geo(metadata: Any) -> GeoPoint | None:
    if not isinstance(metadata, dict):
        return None
    geo = metadata.get("geo")
    if not isinstance(geo, dict):
        return None
    try:
        lat, lon = float(geo["lat"]), float(geo["lon"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return GeoPoint(lat, lon)


def turn_from_tracker(tracker: Any) -> Turn:
    """Build a :class:`Turn` from a ``rasa_sdk.Tracker``."""
    latest = tracker.latest_message or {}
    entities: dict[str, list[str]] = {}
    for entity in latest.get("entities") or []:
        value = entity.get("value")
        if entity.get("entity") and value is not None:
            entities.setdefault(entity["entity"], []).append(str(value))
    history: list[str] = []
    services: list[str] = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            history.append(event["text"])
        elif (event.get("event") == "slot" and event.get("name") == SERVICE_ID
              and event.get("value") and event["value"] not in services):
            services.append(event["value"])
    text = latest.get("text") or ""
    if history and history[-1] == text:
        history.pop()
    slot = tracker.get_slot
    return Turn(
        text=text,
        intent=(latest.get("intent") or {}).get("name") or "",
        entities={k: tuple(v) for k, v in entities.items()},
        service_id=slot(SERVICE_ID),
        aspect=slot(ASPECT),
        language=slot(LANGUAGE) or "de",
        simple_language=bool(slot(SIMPLE_LANGUAGE)),
        postcode=slot(POSTCODE),
        district=slot(DISTRICT),
        misses=int(slot(MISSES) or 0),
        pending=slot(PENDING),
        geo=_geo(latest.get("metadata")),
        history=tuple(history),
        services_discussed=tuple(services),
    )
