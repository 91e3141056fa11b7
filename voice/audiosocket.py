"""Asterisk AudioSocket: a city's PBX routes its number to the bot over TCP.

Every frame is 1 byte type, 2 bytes big-endian payload length, payload:

    0x00 hang-up (no payload)          0x01 call UUID (16 bytes, first frame)
    0x03 DTMF digit (1 ASCII byte)     0x10 audio: s16le mono 8 kHz, 20 ms = 320 bytes
    0xff error (payload: our stable error code in ASCII)

The bot greets right away and streams its audio back in real time. A malformed frame gets an
error frame back; a frame we cannot resynchronise after also ends the connection. When the bot
lets go of the call (transfer or goodbye) it sends a hang-up frame; the dialplan then asks
``GET /voice/calls/{uuid}/route`` what to do (see docs/VOICE.md).
"""

from __future__ import annotations

import asyncio
import struct
import uuid
from dataclasses import dataclass
from enum import IntEnum

import structlog

from voice.audio import TELEPHONY_RATE, AudioFormat
from voice.errors import ProtocolError
from voice.events import EventCallback
from voice.handoff import HandoffQueue, LinkSender, Route
from voice.pipeline import Dialogue, VoiceSession
from voice.runtime import VoiceRuntime

log = structlog.get_logger(__name__)

MAX_PAYLOAD = 8192  # far above 320-byte audio frames; anything larger is not AudioSocket
DTMF_DIGITS = frozenset("0123456789*#ABCD")


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10
    ERROR = 0xFF


class FrameError(ProtocolError):
    """A malformed frame; ``fatal`` when the connection cannot go on after it."""

    def __init__(self, code: str, message: str, *, fatal: bool = False) -> None:
        super().__init__(message, code=code)
        self.fatal = fatal


def _header(kind: Kind, payload: bytes) -> bytes:
    return struct.pack(">BH", kind, len(payload)) + payload


@dataclass(frozen=True, slots=True)
class HangupFrame:
    def to_wire(self) -> bytes:
        return _header(Kind.HANGUP, b"")

    @classmethod
    def from_wire(cls, payload: bytes) -> HangupFrame:
        return cls()


@dataclass(frozen=True, slots=True)
class CallIdFrame:
    call_id: uuid.UUID

    def to_wire(self) -> bytes:
        return _header(Kind.UUID, self.call_id.bytes)

    @classmethod
    def from_wire(cls, payload: bytes) -> CallIdFrame:
        if len(payload) != 16:
            raise FrameError("audiosocket-bad-uuid", "call UUID must be 16 bytes", fatal=True)
        return cls(uuid.UUID(bytes=payload))


@dataclass(frozen=True, slots=True)
class DtmfFrame:
    digit: str

    def to_wire(self) -> bytes:
        return _header(Kind.DTMF, self.digit.encode("ascii"))

    @classmethod
    def from_wire(cls, payload: bytes) -> DtmfFrame:
        digit = payload.decode("ascii", "replace")
        if digit not in DTMF_DIGITS:
            raise FrameError("audiosocket-bad-dtmf", "DTMF payload must be one digit 0-9*#A-D")
        return cls(digit)


@dataclass(frozen=True, slots=True)
class AudioFrame:
    pcm: bytes  # s16le mono 8 kHz

    def to_wire(self) -> bytes:
        return _header(Kind.AUDIO, self.pcm)

    @classmethod
    def from_wire(cls, payload: bytes) -> AudioFrame:
        if len(payload) % 2:
            raise FrameError("audiosocket-bad-audio", "audio payload must be 16-bit samples")
        return cls(payload)


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    code: str

    def to_wire(self) -> bytes:
        return _header(Kind.ERROR, self.code.encode("ascii", "replace"))

    @classmethod
    def from_wire(cls, payload: bytes) -> ErrorFrame:
        return cls(payload.decode("ascii", "replace"))


Frame = HangupFrame | CallIdFrame | DtmfFrame | AudioFrame | ErrorFrame
_TYPES: dict[int, type[Frame]] = {
    Kind.HANGUP: HangupFrame, Kind.UUID: CallIdFrame, Kind.DTMF: DtmfFrame,
    Kind.AUDIO: AudioFrame, Kind.ERROR: ErrorFrame,
}


def parse_frame(kind: int, payload: bytes) -> Frame:
    frame_type = _TYPES.get(kind)
    if frame_type is None:
        raise FrameError("audiosocket-unknown-kind", f"unknown frame type 0x{kind:02x}")
    return frame_type.from_wire(payload)


async def read_frame(reader: asyncio.StreamReader) -> Frame:
    """The next frame; raises ``IncompleteReadError`` at the end of the stream."""
    header = await reader.readexactly(3)
    kind, length = struct.unpack(">BH", header)
    if length > MAX_PAYLOAD:
        raise FrameError("audiosocket-frame-too-large", f"payload of {length} bytes", fatal=True)
    payload = await reader.readexactly(length)
    return parse_frame(kind, payload)


class AudioSocketOutput:
    format = AudioFormat(TELEPHONY_RATE)

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def _write(self, data: bytes) -> None:
        if self._writer.is_closing():
            return
        self._writer.write(data)
        try:
            await self._writer.drain()
        except ConnectionError:
            pass

    async def send_audio(self, pcm: bytes) -> None:
        await self._write(AudioFrame(pcm).to_wire())

    async def clear_audio(self) -> None:
        return None  # frames go out in real time; at most the playback lead is in flight

    async def transfer(self, route: Route) -> None:
        await self.hangup()  # the dialplan reads the route and transfers

    async def hangup(self) -> None:
        await self._write(HangupFrame().to_wire())
        self._writer.close()

    async def error(self, code: str) -> None:
        await self._write(ErrorFrame(code).to_wire())


@dataclass(frozen=True, slots=True)
class CallServices:
    runtime: VoiceRuntime
    dialogue: Dialogue
    handoff: HandoffQueue
    links: LinkSender | None = None
    on_event: EventCallback | None = None


async def handle_connection(services: CallServices, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
    output = AudioSocketOutput(writer)
    try:
        first = await read_frame(reader)
        if not isinstance(first, CallIdFrame):
            raise FrameError("audiosocket-no-call-id", "first frame must be the call UUID",
                             fatal=True)
    except FrameError as err:
        log.warning("voice.audiosocket.bad_start", code=err.code)
        await output.error(err.code)
        writer.close()
        return
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
        return
    call_id = str(first.call_id)
    runtime = services.runtime
    if runtime.calls.locked():
        log.warning("voice.audiosocket.busy")
        runtime.routes.set(call_id, Route("transfer", runtime.settings.transfer_target))
        await output.error("voice-busy")
        await output.hangup()
        return
    async with runtime.calls:
        session = VoiceSession(runtime, call_id=call_id, input_rate=TELEPHONY_RATE,
                               output=output, dialogue=services.dialogue,
                               handoff=services.handoff, links=services.links,
                               on_event=services.on_event, transport="audiosocket")
        reason = "caller-hangup"
        try:
            await session.start()
            await _pump(session, reader, output)
        except asyncio.CancelledError:
            reason = "server-shutdown"
            raise
        finally:
            writer.close()  # first: a cancelled close() below must not leak the socket
            await session.close(reason)


async def _pump(session: VoiceSession, reader: asyncio.StreamReader,
                output: AudioSocketOutput) -> None:
    while not session.ended.is_set():
        try:
            frame = await read_frame(reader)
        except FrameError as err:
            log.warning("voice.audiosocket.bad_frame", code=err.code)
            await output.error(err.code)
            if err.fatal:
                return
            continue
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        if isinstance(frame, AudioFrame):
            await session.feed_audio(frame.pcm)
        elif isinstance(frame, DtmfFrame):
            await session.feed_dtmf(frame.digit)
        elif isinstance(frame, HangupFrame):
            return
        elif isinstance(frame, CallIdFrame):
            await output.error("audiosocket-duplicate-call-id")
        elif isinstance(frame, ErrorFrame):
            log.info("voice.audiosocket.peer_error", code=frame.code[:32])
            return


class AudioSocketServer:
    """The listening socket and its open calls; :meth:`close` ends both."""

    def __init__(self, services: CallServices) -> None:
        self._services = services
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port)
        log.info("voice.audiosocket.listening", host=host, port=self.port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await handle_connection(self._services, reader, writer)
        except asyncio.CancelledError:
            pass  # server shutdown: the call was closed in handle_connection
        except Exception:
            log.exception("voice.audiosocket.connection_failed")
        finally:
            self._connections.discard(task)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        pending = list(self._connections)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        if self._server is not None:
            await self._server.wait_closed()


async def serve(services: CallServices, host: str, port: int) -> AudioSocketServer:
    """Start listening; the caller owns the server and calls ``await server.close()``."""
    server = AudioSocketServer(services)
    await server.start(host, port)
    return server
