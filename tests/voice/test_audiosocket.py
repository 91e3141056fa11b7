"""The AudioSocket server driven by a test client sending real 8 kHz audio frames: greeting,
an utterance, barge-in, DTMF, silence, hang-up and malformed frames."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.messages import BotMessage, Button
from tests.voice.voice_helpers import EventLog, RecordingDialogue, RecordingQueue, espeak, silence
from voice.audio import pcm_to_float, rms_dbfs
from voice.audiosocket import (
    AudioFrame,
    CallIdFrame,
    CallServices,
    DtmfFrame,
    ErrorFrame,
    FrameError,
    HangupFrame,
    Kind,
    parse_frame,
    read_frame,
    serve,
)
from voice.events import EventType
from voice.runtime import VoiceRuntime

FRAME = 320  # 20 ms at 8 kHz


def test_every_frame_type_round_trips() -> None:
    frames = [HangupFrame(), CallIdFrame(uuid.uuid4()), DtmfFrame("#"), AudioFrame(b"\x01\x00" * 160),
              ErrorFrame("audiosocket-bad-dtmf")]
    for frame in frames:
        wire = frame.to_wire()
        kind, length = struct.unpack(">BH", wire[:3])
        assert length == len(wire) - 3
        assert parse_frame(kind, wire[3:]) == frame


@pytest.mark.parametrize(("kind", "payload", "code", "fatal"), [
    (0x42, b"", "audiosocket-unknown-kind", False),
    (Kind.AUDIO, b"\x00" * 3, "audiosocket-bad-audio", False),
    (Kind.DTMF, b"x", "audiosocket-bad-dtmf", False),
    (Kind.UUID, b"\x00" * 5, "audiosocket-bad-uuid", True),
])
def test_malformed_frames_have_stable_codes(kind: int, payload: bytes, code: str,
                                            fatal: bool) -> None:
    with pytest.raises(FrameError) as info:
        parse_frame(kind, payload)
    assert info.value.code == code
    assert info.value.fatal is fatal


class Client:
    """A PBX stand-in: sends frames, collects what the bot sends back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.audio: list[bytes] = []
        self.errors: list[str] = []
        self.hung_up = asyncio.Event()
        self.first_audio = asyncio.Event()
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        try:
            while True:
                frame = await read_frame(self.reader)
                if isinstance(frame, AudioFrame):
                    self.audio.append(frame.pcm)
                    self.first_audio.set()
                elif isinstance(frame, ErrorFrame):
                    self.errors.append(frame.code)
                elif isinstance(frame, HangupFrame):
                    self.hung_up.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            self.hung_up.set()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_audio(self, pcm: bytes) -> None:
        for i in range(0, len(pcm) - len(pcm) % FRAME, FRAME):
            await self.send(AudioFrame(pcm[i:i + FRAME]).to_wire())

    async def close(self) -> None:
        self.writer.close()
        await asyncio.wait([self._task], timeout=10)
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@pytest.fixture
async def call_setup(runtime: VoiceRuntime) -> AsyncIterator[tuple[CallServices, EventLog, int]]:
    events = EventLog()
    services = CallServices(runtime, RecordingDialogue(), RecordingQueue(), on_event=events)
    server = await serve(services, "127.0.0.1", 0)
    yield services, events, server.port
    await server.close()


async def connect(port: int, call_id: uuid.UUID | None = None) -> Client:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    client = Client(reader, writer)
    if call_id is not None:
        await client.send(CallIdFrame(call_id).to_wire())
    return client


async def test_greeting_streams_speech_then_silence_reprompts_and_says_goodbye(
        call_setup: tuple[CallServices, EventLog, int]) -> None:
    services, events, port = call_setup
    call_id = uuid.uuid4()
    client = await connect(port, call_id)
    await asyncio.wait_for(client.first_audio.wait(), 30)
    await events.wait_for(EventType.PLAYBACK_END)
    greeting = b"".join(client.audio)
    assert {len(f) for f in client.audio} == {FRAME}
    assert rms_dbfs(pcm_to_float(greeting)) > -40  # speech, not silence
    # Silence: one reprompt after 2 s of call audio, then a goodbye and a hang-up.
    await client.send_audio(silence(2100, 8000))
    await events.wait_for(EventType.REPROMPT)
    await events.wait_for(EventType.PLAYBACK_END, 2)
    await client.send_audio(silence(2100, 8000))
    await asyncio.wait_for(client.hung_up.wait(), 30)
    end = await events.wait_for(EventType.CALL_END)
    assert end.data["reason"] == "no-input"
    assert services.runtime.routes.get(str(call_id)).to_text() == "hangup"
    kinds = [e.data["kind"] for e in events.of(EventType.TTS_START)]
    assert kinds == ["greeting", "reprompt", "goodbye"]
    await client.close()


CHOICES = [BotMessage("Was möchten Sie tun?", buttons=(Button("여권", "/passport"),
                                                      Button("아니요", "/no")))]


async def test_utterance_with_choices_is_recognised_and_answered(
        call_setup: tuple[CallServices, EventLog, int]) -> None:
    services, events, port = call_setup
    dialogue = services.dialogue
    assert isinstance(dialogue, RecordingDialogue)
    dialogue.default = CHOICES
    dialogue.answers["/passport"] = [BotMessage("Für den Reisepass brauchen Sie ein Foto.")]
    call_id = uuid.uuid4()
    client = await connect(port, call_id)
    await events.wait_for(EventType.PLAYBACK_END)
    # First utterance: open vocabulary (Korean speech, recognised as some Korean words).
    await client.send_audio(silence(300, 8000) + espeak("안녕하세요", "ko", 8000)
                            + silence(700, 8000))
    first = await events.wait_for(EventType.STT_END)
    assert first.data["text"] and first.data["words"]
    assert all(0 < w["conf"] <= 1 for w in first.data["words"])
    await events.wait_for(EventType.PLAYBACK_END, 2)
    # The answer offered two choices: the model now listens for them (grammar), and
    # the caller's words pick one.
    await client.send_audio(silence(300, 8000) + espeak("여권", "ko", 8000)
                            + silence(700, 8000))
    second = await events.wait_for(EventType.STT_END, 2)
    assert second.data["text"] == "여권"
    await events.wait_for(EventType.PLAYBACK_END, 3)
    assert [c[1] for c in dialogue.calls] == [first.data["text"], "/passport"]
    assert all(c[0] == str(call_id) and c[2] == {"channel": "voice", "call_id": str(call_id)}
               for c in dialogue.calls)
    assert any(e.data.get("text") for e in events.of(EventType.STT_PARTIAL))
    await client.send(HangupFrame().to_wire())
    end = await events.wait_for(EventType.CALL_END)
    assert end.data["reason"] == "caller-hangup"
    roles = [line["role"] for line in end.data["transcript"]]
    assert roles == ["bot", "caller", "bot", "caller", "bot"]
    await client.close()


async def test_barge_in_stops_the_greeting_and_the_new_utterance_is_handled(
        call_setup: tuple[CallServices, EventLog, int]) -> None:
    services, events, port = call_setup
    client = await connect(port, uuid.uuid4())
    await asyncio.wait_for(client.first_audio.wait(), 30)
    await client.send_audio(espeak("여권 신청", "ko", 8000) + silence(700, 8000))
    await events.wait_for(EventType.BARGE_IN)
    stopped = await events.wait_for(EventType.PLAYBACK_END)
    assert stopped.data == {"interrupted": True, "reason": "barge-in"}
    heard = len(client.audio)
    await events.wait_for(EventType.STT_END)
    await events.wait_for(EventType.PLAYBACK_END, 2)  # the answer
    assert len(services.dialogue.calls) == 1  # type: ignore[attr-defined]
    # The greeting (about nine seconds) was cut off after well under three seconds.
    assert heard * 0.02 < 3.0
    await client.close()


async def test_dtmf_zero_queues_a_handoff_with_transcript_and_transfers(
        call_setup: tuple[CallServices, EventLog, int]) -> None:
    services, events, port = call_setup
    call_id = uuid.uuid4()
    client = await connect(port, call_id)
    await asyncio.wait_for(client.first_audio.wait(), 30)
    await client.send(DtmfFrame("0").to_wire())
    queued = await events.wait_for(EventType.HANDOFF_QUEUED)
    assert queued.data["reason"] == "explicit_request"
    await asyncio.wait_for(client.hung_up.wait(), 60)
    transfer = await events.wait_for(EventType.TRANSFER)
    assert transfer.data["target"] == "staff"
    assert services.runtime.routes.get(str(call_id)).to_text() == "transfer staff"
    queue = services.handoff
    assert isinstance(queue, RecordingQueue)
    [(queued_id, request, transcript)] = queue.items
    assert queued_id == str(call_id) and request.reason == "explicit_request"
    assert [(line.role, line.text) for line in transcript] == [
        ("bot", services.runtime.settings.prompts.greeting),
        ("caller", "[Taste 0: Mitarbeiter]")]
    end = await events.wait_for(EventType.CALL_END)
    assert "verbinde" in end.data["transcript"][-1]["text"]
    await client.close()


async def test_dtmf_digits_answer_a_number_question(
        call_setup: tuple[CallServices, EventLog, int]) -> None:
    services, events, port = call_setup
    dialogue = services.dialogue
    assert isinstance(dialogue, RecordingDialogue)
    dialogue.default = [BotMessage("Wie lautet Ihre Postleitzahl?")]
    client = await connect(port, uuid.uuid4())
    await events.wait_for(EventType.PLAYBACK_END)
    await client.send_audio(espeak("안녕하세요", "ko", 8000) + silence(700, 8000))
    await events.wait_for(EventType.PLAYBACK_END, 2)
    for digit in "80331#":
        await client.send(DtmfFrame(digit).to_wire())
    await asyncio.wait_for(_until(lambda: len(dialogue.calls) == 2), 30)
    assert dialogue.calls[1][1] == "80331"  # 0 is a digit here, not "ask for a person"
    await client.close()


async def test_malformed_frames_get_error_replies(
        call_setup: tuple[CallServices, EventLog, int]) -> None:
    _, events, port = call_setup
    client = await connect(port, uuid.uuid4())
    await asyncio.wait_for(client.first_audio.wait(), 30)
    await client.send(bytes([0x42, 0, 0]))
    await client.send(bytes([Kind.AUDIO, 0, 3, 1, 2, 3]))
    await client.send(DtmfFrame("0").to_wire()[:3] + b"x")
    await asyncio.wait_for(_until(lambda: len(client.errors) == 3), 10)
    assert client.errors == ["audiosocket-unknown-kind", "audiosocket-bad-audio",
                             "audiosocket-bad-dtmf"]
    assert not client.hung_up.is_set()  # recoverable: the call goes on
    await client.send(bytes([Kind.AUDIO, 0xFF, 0xFF]))  # cannot resynchronise after this
    await asyncio.wait_for(client.hung_up.wait(), 10)
    assert client.errors[-1] == "audiosocket-frame-too-large"
    await events.wait_for(EventType.CALL_END)
    await client.close()


async def test_a_connection_must_start_with_the_call_id(
        call_setup: tuple[CallServices, EventLog, int]) -> None:
    _, events, port = call_setup
    client = await connect(port)
    await client.send(AudioFrame(silence(20, 8000)).to_wire())
    await asyncio.wait_for(client.hung_up.wait(), 10)
    assert client.errors == ["audiosocket-no-call-id"]
    assert not events.events
    await client.close()


async def _until(predicate: object) -> None:
    while not predicate():  # type: ignore[operator]
        await asyncio.sleep(0.01)
