"""Bot messages as they travel action server → Rasa → gateway → clients.

Actions send rich messages as Rasa ``custom`` JSON (``dispatcher.utter_message(json_message=
BotMessage(...).to_wire())``); plain domain responses arrive as Rasa ``text``/``buttons``.
``BotMessage.from_rasa`` turns either into one type, and ``to_wire`` gives the chat API's
message object: ``{"text", "sources", "buttons"}`` (plus ``handoff`` inside ``custom`` only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class WireError(ValueError):
    """A message on the wire does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class Source:
    service_id: str
    title: str
    url: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"service_id": self.service_id, "title": self.title, "url": self.url}

    @classmethod
    def from_wire(cls, data: Any) -> Source:
        if not isinstance(data, dict):
            raise WireError("source must be an object")
        url = data.get("url")
        return cls(
            service_id=_str(data, "service_id"),
            title=_str(data, "title"),
            url=url if isinstance(url, str) and url else None,
        )


@dataclass(frozen=True, slots=True)
class Button:
    title: str
    payload: str

    def to_wire(self) -> dict[str, Any]:
        return {"title": self.title, "payload": self.payload}

    @classmethod
    def from_wire(cls, data: Any) -> Button:
        if not isinstance(data, dict):
            raise WireError("button must be an object")
        return cls(title=_str(data, "title"), payload=_str(data, "payload"))


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    """The dialogue decided that a person should take over; context for staff."""

    reason: str  # "explicit_request", "complaint", "status_enquiry", "distress", "low_confidence", ...
    summary: str = ""
    services: tuple[str, ...] = ()
    aspect: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "summary": self.summary,
            "services": list(self.services),
            "aspect": self.aspect,
        }

    @classmethod
    def from_wire(cls, data: Any) -> HandoffRequest:
        if not isinstance(data, dict):
            raise WireError("handoff must be an object")
        services = data.get("services") or []
        if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
            raise WireError("handoff.services must be a list of strings")
        aspect = data.get("aspect")
        summary = data.get("summary") or ""
        return cls(
            reason=_str(data, "reason"),
            summary=summary if isinstance(summary, str) else "",
            services=tuple(services),
            aspect=aspect if isinstance(aspect, str) else None,
        )


@dataclass(frozen=True, slots=True)
class BotMessage:
    text: str
    sources: tuple[Source, ...] = ()
    buttons: tuple[Button, ...] = ()
    handoff: HandoffRequest | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """The JSON sent as Rasa ``custom`` payload by actions."""
        data: dict[str, Any] = {
            "text": self.text,
            "sources": [s.to_wire() for s in self.sources],
            "buttons": [b.to_wire() for b in self.buttons],
        }
        if self.handoff is not None:
            data["handoff"] = self.handoff.to_wire()
        if self.extra:
            data["extra"] = self.extra
        return data

    def to_api(self) -> dict[str, Any]:
        """The chat API's message object (no handoff: that is a field of the whole answer)."""
        return {
            "text": self.text,
            "sources": [s.to_wire() for s in self.sources],
            "buttons": [b.to_wire() for b in self.buttons],
        }

    @classmethod
    def from_wire(cls, data: Any) -> BotMessage:
        if not isinstance(data, dict):
            raise WireError("message must be an object")
        text = data.get("text", "")
        if not isinstance(text, str):
            raise WireError("text must be a string")
        sources = data.get("sources") or []
        buttons = data.get("buttons") or []
        if not isinstance(sources, list) or not isinstance(buttons, list):
            raise WireError("sources and buttons must be lists")
        handoff = data.get("handoff")
        extra = data.get("extra") or {}
        return cls(
            text=text,
            sources=tuple(Source.from_wire(s) for s in sources),
            buttons=tuple(Button.from_wire(b) for b in buttons),
            handoff=HandoffRequest.from_wire(handoff) if handoff else None,
            extra=extra if isinstance(extra, dict) else {},
        )

    @classmethod
    def from_rasa(cls, data: Any) -> BotMessage:
        """One element of Rasa's REST webhook answer."""
        if not isinstance(data, dict):
            raise WireError("Rasa message must be an object")
        custom = data.get("custom")
        if isinstance(custom, dict):
            return cls.from_wire(custom)
        text = data.get("text") or ""
        buttons = data.get("buttons") or []
        if not isinstance(text, str) or not isinstance(buttons, list):
            raise WireError("Rasa message has unexpected types")
        return cls(text=text, buttons=tuple(Button.from_wire(b) for b in buttons))


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise WireError(f"{key} must be a non-empty string")
    return value
