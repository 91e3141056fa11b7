"""Typed events of a voice call: one callback receives them all (browser page, staff live view,
logs, tests). Each stage is bracketed by start/end events; failures are one ``error`` event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    CALL_START = "call-start"
    CALL_END = "call-end"
    STT_START = "stt-start"  # the caller started speaking; recognition runs
    STT_PARTIAL = "stt-partial"
    STT_END = "stt-end"
    BARGE_IN = "barge-in"
    DIALOGUE_START = "dialogue-start"
    DIALOGUE_END = "dialogue-end"
    TTS_START = "tts-start"
    TTS_END = "tts-end"
    PLAYBACK_START = "playback-start"  # the first audio frame went out
    PLAYBACK_END = "playback-end"
    DTMF = "dtmf"
    REPROMPT = "reprompt"
    LINKS_REQUESTED = "links-requested"
    HANDOFF_QUEUED = "handoff-queued"
    TRANSFER = "transfer"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class VoiceEvent:
    type: EventType
    call_id: str
    data: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0  # seconds since the call started

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.type.value, "call_id": self.call_id, "data": self.data,
                "at": round(self.at, 3)}

    @classmethod
    def from_wire(cls, data: Any) -> VoiceEvent:
        if not isinstance(data, dict):
            raise TypeError("event must be an object")
        payload = data.get("data") or {}
        if not isinstance(payload, dict):
            raise TypeError("event data must be an object")
        return cls(EventType(data["type"]), str(data["call_id"]), payload,
                   float(data.get("at", 0.0)))


EventCallback = Callable[[VoiceEvent], Awaitable[None] | None]
