"""Speech output through a pluggable engine; every engine turns one sentence into s16le mono PCM
and says at which rate.

* ``espeak-lib`` — libespeak-ng and its data from the ``espeakng-loader`` wheel, in-process via
  ctypes: no system package, works offline. The library keeps global state, so one instance
  per process synthesises one sentence at a time on the runtime's executor.
* ``espeak-ng`` — the Debian ``espeak-ng`` program.
* ``pico`` — the Debian ``libttspico-utils`` program ``pico2wave`` (non-free section).
* ``piper`` — the Piper program with a configured ``.onnx`` voice; best quality.
"""

from __future__ import annotations

import asyncio
import ctypes
import io
import json
import shutil
import tempfile
import threading
import wave
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from voice.errors import TtsError, TtsUnavailable
from voice.executor import BlockingRunner
from voice.settings import VoiceSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Speech:
    pcm: bytes  # s16le mono
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / self.rate


class TtsEngine(Protocol):
    name: str

    async def synthesize(self, text: str) -> Speech: ...

    async def close(self) -> None: ...


def _read_wav(data: bytes) -> Speech:
    try:
        with wave.open(io.BytesIO(data)) as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                raise TtsError("Sprachausgabe liefert kein 16-Bit-Mono")
            return Speech(wav.readframes(wav.getnframes()), wav.getframerate())
    except (wave.Error, EOFError) as err:
        raise TtsError("Sprachausgabe liefert kein gültiges WAV") from err


async def _run(argv: list[str], stdin: bytes | None = None) -> bytes:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE if stdin is not None else None,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except OSError as err:
        raise TtsUnavailable(f"{argv[0]} lässt sich nicht starten") from err
    try:
        out, _ = await proc.communicate(stdin)
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    if proc.returncode != 0:
        log.error("voice.tts.failed", program=Path(argv[0]).name, code=proc.returncode)
        raise TtsError(f"{Path(argv[0]).name} endete mit Code {proc.returncode}")
    return out


# -- espeak-ng, in process -----------------------------------------------------------------------
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_SYNTH_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)
_LIB_LOCK = threading.Lock()  # libespeak-ng is one global synthesiser per process


_LIB: dict[str, Any] = {}  # the loaded library, its sample rate and current voice


def _espeak_lib() -> tuple[Any, int]:
    """Load and initialise libespeak-ng once per process (call with _LIB_LOCK held)."""
    if "lib" not in _LIB:
        try:
            import espeakng_loader
        except ImportError as err:
            raise TtsUnavailable("Paket espeakng-loader ist nicht installiert") from err
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
        except OSError as err:
            raise TtsUnavailable("libespeak-ng aus espeakng-loader lädt nicht") from err
        data_parent = str(Path(espeakng_loader.get_data_path()).parent).encode()
        lib.espeak_Initialize.restype = ctypes.c_int
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_parent, 0)
        if rate <= 0:
            raise TtsUnavailable("libespeak-ng ließ sich nicht initialisieren")
        _LIB.update(lib=lib, rate=rate, voice=None)
    return _LIB["lib"], int(_LIB["rate"])


class EspeakLibEngine:
    name = "espeak-lib"

    def __init__(self, voice: str, words_per_minute: int, runner: BlockingRunner) -> None:
        self._voice = (voice, words_per_minute)
        self._runner = runner
        self._chunks: list[bytes] = []
        self._callback = _SYNTH_CB(self._collect)  # keep a reference: C holds the pointer
        with _LIB_LOCK:
            self._lib, self.rate = _espeak_lib()
            self._select_voice()

    @classmethod
    def create(cls, voice: str, words_per_minute: int, runner: BlockingRunner) -> EspeakLibEngine:
        return cls(voice, words_per_minute, runner)

    def _select_voice(self) -> None:
        if _LIB.get("voice") == self._voice:
            return
        name, wpm = self._voice
        if self._lib.espeak_SetVoiceByName(name.encode()) != 0:
            raise TtsUnavailable(f"espeak-ng kennt die Stimme {name!r} nicht")
        self._lib.espeak_SetParameter(_ESPEAK_RATE, wpm, 0)
        _LIB["voice"] = self._voice

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        if count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def _synth(self, text: str) -> bytes:
        data = text.encode("utf-8")
        with _LIB_LOCK:
            self._select_voice()
            self._lib.espeak_SetSynthCallback(self._callback)
            self._chunks = []
            buf = ctypes.create_string_buffer(data)
            code = self._lib.espeak_Synth(buf, len(data) + 1, 0, _POS_CHARACTER, 0,
                                          _CHARS_UTF8, None, None)
            if code != 0:
                raise TtsError(f"espeak_Synth meldet Fehler {code}")
            self._lib.espeak_Synchronize()
            pcm, self._chunks = b"".join(self._chunks), []
            return pcm

    async def synthesize(self, text: str) -> Speech:
        try:
            pcm = await self._runner.run(self._synth, text)
        except TtsError:
            raise
        except Exception as err:
            raise TtsError("Sprachausgabe fehlgeschlagen") from err
        return Speech(pcm, self.rate)

    async def close(self) -> None:
        return None


# -- espeak-ng and pico2wave, Debian programs ---------------------------------------------------------
class EspeakCliEngine:
    name = "espeak-ng"

    def __init__(self, program: str, voice: str, words_per_minute: int) -> None:
        self._argv = [program, "-v", voice, "-s", str(words_per_minute), "--stdout"]

    @classmethod
    def create(cls, voice: str, words_per_minute: int) -> EspeakCliEngine:
        program = shutil.which("espeak-ng")
        if program is None:
            raise TtsUnavailable("Programm espeak-ng fehlt (Debian-Paket espeak-ng)")
        return cls(program, voice, words_per_minute)

    async def synthesize(self, text: str) -> Speech:
        # Text on stdin (not argv): nothing a caller said can become an option.
        return _read_wav(await _run(self._argv, text.encode("utf-8")))

    async def close(self) -> None:
        return None


class PicoEngine:
    name = "pico"

    def __init__(self, program: str) -> None:
        self._program = program

    @classmethod
    def create(cls) -> PicoEngine:
        program = shutil.which("pico2wave")
        if program is None:
            raise TtsUnavailable("Programm pico2wave fehlt (Debian-Paket libttspico-utils)")
        return cls(program)

    async def synthesize(self, text: str) -> Speech:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "speech.wav"
            await _run([self._program, "-l", "de-DE", "-w", str(out), "--", text])
            return _read_wav(out.read_bytes())

    async def close(self) -> None:
        return None


class PiperEngine:
    """Runs ``piper --model VOICE.onnx --output-raw`` per sentence (text on stdin)."""

    name = "piper"

    def __init__(self, program: str, voice: Path, rate: int) -> None:
        self._argv = [program, "--model", str(voice), "--output-raw"]
        self._rate = rate

    @classmethod
    def create(cls, program: str, voice: Path) -> PiperEngine:
        found = shutil.which(program)
        if found is None:
            raise TtsUnavailable(f"Piper-Programm {program!r} nicht gefunden")
        config = Path(str(voice) + ".json")
        if not voice.is_file() or not config.is_file():
            raise TtsUnavailable(f"Piper-Stimme {voice} oder {config.name} fehlt")
        try:
            rate = int(json.loads(config.read_text("utf-8"))["audio"]["sample_rate"])
        except (ValueError, KeyError, TypeError) as err:
            raise TtsUnavailable(f"{config.name} nennt keine Abtastrate") from err
        return cls(found, voice, rate)

    async def synthesize(self, text: str) -> Speech:
        pcm = await _run(self._argv, text.replace("\n", " ").encode("utf-8") + b"\n")
        return Speech(pcm[: len(pcm) - len(pcm) % 2], self._rate)

    async def close(self) -> None:
        return None


def create_engine(settings: VoiceSettings, runner: BlockingRunner) -> TtsEngine:
    if settings.tts_engine == "espeak-lib":
        return EspeakLibEngine.create(settings.tts_voice, settings.tts_words_per_minute, runner)
    if settings.tts_engine == "espeak-ng":
        return EspeakCliEngine.create(settings.tts_voice, settings.tts_words_per_minute)
    if settings.tts_engine == "pico":
        return PicoEngine.create()
    assert settings.piper_voice is not None  # checked by VoiceSettings
    return PiperEngine.create(settings.piper_binary, settings.piper_voice)


class CachedTts:
    """Remembers recent sentences (greeting, prompts, frequent answers): no synthesis delay."""

    def __init__(self, engine: TtsEngine, size: int = 256) -> None:
        self.engine = engine
        self._size = size
        self._cache: OrderedDict[str, Speech] = OrderedDict()

    async def synthesize(self, text: str) -> Speech:
        hit = self._cache.get(text)
        if hit is not None:
            self._cache.move_to_end(text)
            return hit
        speech = await self.engine.synthesize(text)
        self._cache[text] = speech
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return speech
