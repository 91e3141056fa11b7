"""The browser voice page's WebSocket protocol: small typed messages, audio as binary frames.

Client → server: ``hello`` first (states the microphone's sample rate), then binary frames of
s16le mono audio at that rate, ``dtmf`` (a key on the page's keypad), ``text`` (typed instead of
spoken), ``bye``. Server → client: ``ready`` (call id and the bot's audio format, s16le mono
16 kHz), binary frames of bot audio, ``event`` (every :class:`VoiceEvent`), ``clear`` (stop
playback now: the caller barged in), ``end`` (with the route), ``error`` (stable code + German
text). A malformed message gets an ``error`` reply; the call goes on.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from voice.audio import ASR_RATE, AudioFormat
from voice.audiosocket import DTMF_DIGITS
from voice.events import EventCallback, VoiceEvent
from voice.handoff import HandoffQueue, LinkSender, Route
from voice.pipeline import Dialogue, VoiceSession
from voice.runtime import VoiceRuntime

log = structlog.get_logger(__name__)

MAX_TEXT = 500
OUTPUT_FORMAT = AudioFormat(ASR_RATE)


class BrowserWireError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- client → server ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Hello:
    rate: int

    def to_wire(self) -> dict[str, Any]:
        return {"type": "hello", "rate": self.rate}


@dataclass(frozen=True, slots=True)
class Key:
    digit: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": "dtmf", "digit": self.digit}


@dataclass(frozen=True, slots=True)
class Typed:
    text: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": "text", "text": self.text}


@dataclass(frozen=True, slots=True)
class Bye:
    def to_wire(self) -> dict[str, Any]:
        return {"type": "bye"}


ClientMessage = Hello | Key | Typed | Bye


def client_from_wire(raw: str) -> ClientMessage:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise BrowserWireError("voice-bad-message", "Nachricht ist kein JSON.") from err
    if not isinstance(data, dict):
        raise BrowserWireError("voice-bad-message", "Nachricht muss ein Objekt sein.")
    kind = data.get("type")
    if kind == "hello":
        rate = data.get("rate")
        if not isinstance(rate, int) or isinstance(rate, bool) or not 8000 <= rate <= 96000:
            raise BrowserWireError("voice-bad-rate", "Abtastrate muss zwischen 8000 und "
                                   "96000 Hz liegen.")
        return Hello(rate)
    if kind == "dtmf":
        digit = data.get("digit")
        if not isinstance(digit, str) or digit not in DTMF_DIGITS:
            raise BrowserWireError("voice-bad-dtmf", "Unbekannte Taste.")
        return Key(digit)
    if kind == "text":
        text = data.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise BrowserWireError("voice-bad-text", "Text fehlt oder ist zu lang.")
        return Typed(text.strip())
    if kind == "bye":
        return Bye()
    raise BrowserWireError("voice-bad-message", "Unbekannte Nachricht.")


# -- server → client ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Ready:
    call_id: str
    audio: AudioFormat

    def to_wire(self) -> dict[str, Any]:
        return {"type": "ready", "call_id": self.call_id, "audio": self.audio.to_wire()}


@dataclass(frozen=True, slots=True)
class EventMessage:
    event: VoiceEvent

    def to_wire(self) -> dict[str, Any]:
        return {"type": "event", "event": self.event.to_wire()}


@dataclass(frozen=True, slots=True)
class Clear:
    def to_wire(self) -> dict[str, Any]:
        return {"type": "clear"}


@dataclass(frozen=True, slots=True)
class End:
    route: Route

    def to_wire(self) -> dict[str, Any]:
        return {"type": "end", "route": self.route.to_wire()}


@dataclass(frozen=True, slots=True)
class ErrorMessage:
    code: str
    message: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "message": self.message}


ServerMessage = Ready | EventMessage | Clear | End | ErrorMessage


def server_from_wire(data: dict[str, Any]) -> ServerMessage:
    """For clients and tests: the inverse of ``to_wire`` for every server message."""
    kind = data.get("type")
    if kind == "ready":
        audio = data["audio"]
        return Ready(data["call_id"], AudioFormat(audio["rate"], audio["width"],
                                                  audio["channels"]))
    if kind == "event":
        return EventMessage(VoiceEvent.from_wire(data["event"]))
    if kind == "clear":
        return Clear()
    if kind == "end":
        return End(Route(data["route"]["action"], data["route"]["target"]))
    if kind == "error":
        return ErrorMessage(data["code"], data["message"])
    raise BrowserWireError("voice-bad-message", "Unbekannte Nachricht.")


class BrowserOutput:
    format = OUTPUT_FORMAT

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws

    async def send(self, message: ServerMessage) -> None:
        if not self._ws.closed:
            with contextlib.suppress(ConnectionResetError):  # the page went away meanwhile
                await self._ws.send_json(message.to_wire())

    async def send_audio(self, pcm: bytes) -> None:
        if not self._ws.closed:
            with contextlib.suppress(ConnectionResetError):
                await self._ws.send_bytes(pcm)

    async def clear_audio(self) -> None:
        await self.send(Clear())

    async def transfer(self, route: Route) -> None:
        await self.send(End(route))
        await self._ws.close()

    async def hangup(self) -> None:
        await self.send(End(Route("hangup")))
        await self._ws.close()


async def handle_browser_call(ws: web.WebSocketResponse, runtime: VoiceRuntime, *,
                              dialogue: Dialogue, handoff: HandoffQueue,
                              links: LinkSender | None = None,
                              on_event: EventCallback | None = None) -> None:
    """Runs one call on a prepared WebSocket until either side ends it."""
    output = BrowserOutput(ws)
    first = await ws.receive()
    try:
        if first.type is not WSMsgType.TEXT:
            raise BrowserWireError("voice-no-hello", "Zuerst muss 'hello' kommen.")
        hello = client_from_wire(first.data)
        if not isinstance(hello, Hello):
            raise BrowserWireError("voice-no-hello", "Zuerst muss 'hello' kommen.")
    except BrowserWireError as err:
        await output.send(ErrorMessage(err.code, err.message))
        await ws.close()
        return
    call_id = f"web-{uuid.uuid4()}"

    async def forward(event: VoiceEvent) -> None:
        await output.send(EventMessage(event))
        if on_event is not None:
            result = on_event(event)
            if result is not None:
                await result

    session = VoiceSession(runtime, call_id=call_id, input_rate=hello.rate, output=output,
                           dialogue=dialogue, handoff=handoff, links=links, on_event=forward,
                           transport="browser")
    await output.send(Ready(call_id, OUTPUT_FORMAT))
    reason = "caller-hangup"
    try:
        await session.start()
        async for msg in ws:
            if msg.type is WSMsgType.BINARY:
                if len(msg.data) % 2:
                    await output.send(ErrorMessage("voice-bad-audio",
                                                   "Audio muss aus 16-Bit-Werten bestehen."))
                    continue
                await session.feed_audio(msg.data)
            elif msg.type is WSMsgType.TEXT:
                try:
                    message = client_from_wire(msg.data)
                except BrowserWireError as err:
                    await output.send(ErrorMessage(err.code, err.message))
                    continue
                if isinstance(message, Key):
                    await session.feed_dtmf(message.digit)
                elif isinstance(message, Typed):
                    await session.inject_utterance(message.text)
                elif isinstance(message, Bye):
                    break
                else:
                    await output.send(ErrorMessage("voice-duplicate-hello",
                                                   "'hello' kam schon."))
            if session.ended.is_set():
                break
    except Exception:
        reason = "error"
        log.exception("voice.browser.failed")
        raise
    finally:
        await session.close(reason)
        await ws.close()
