"""Speech output engines: the in-process espeak-ng library (PyPI espeakng-loader), the Debian
espeak-ng and pico2wave programs, and the Piper program contract."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.voice.voice_helpers import silence
from voice.asr import AsrModel, RecognitionStream
from voice.audio import pcm_to_float, resample_block, rms_dbfs
from voice.errors import TtsUnavailable
from voice.executor import BlockingRunner
from voice.settings import VoiceSettings
from voice.tts import (
    CachedTts,
    EspeakCliEngine,
    EspeakLibEngine,
    PicoEngine,
    PiperEngine,
    Speech,
    create_engine,
)

GERMAN = "Ihr Reisepass kostet siebzig Euro."


@pytest.fixture
async def runner() -> BlockingRunner:
    runner = BlockingRunner(1)
    yield runner
    await asyncio.to_thread(runner.shutdown)


def needs_espeak_lib() -> None:
    pytest.importorskip("espeakng_loader", reason="PyPI package espeakng-loader not installed")


def assert_speech(speech: Speech, min_seconds: float) -> None:
    assert speech.rate in (16000, 22050)
    assert speech.seconds > min_seconds
    assert rms_dbfs(pcm_to_float(speech.pcm)) > -35


async def test_espeak_library_speaks_german_without_a_system_package(
        runner: BlockingRunner) -> None:
    needs_espeak_lib()
    engine = create_engine(VoiceSettings(tts_engine="espeak-lib"), runner)
    assert isinstance(engine, EspeakLibEngine)
    assert_speech(await engine.synthesize(GERMAN), 1.5)


async def test_espeak_library_voices_do_not_leak_into_each_other(
        runner: BlockingRunner) -> None:
    needs_espeak_lib()
    german = EspeakLibEngine.create("de", 165, runner)
    before = await german.synthesize("Guten Tag")
    EspeakLibEngine.create("ko", 165, runner)
    after = await german.synthesize("Guten Tag")
    assert abs(len(before.pcm) - len(after.pcm)) < 200  # same voice, same length
    with pytest.raises(TtsUnavailable):
        EspeakLibEngine.create("xx-nonexistent", 165, runner)


async def test_synthesised_speech_is_recognised(ko_model: AsrModel,
                                                runner: BlockingRunner) -> None:
    """The loop closes: the library's Korean speech, at telephony rate, through Vosk."""
    needs_espeak_lib()
    speech = await EspeakLibEngine.create("ko", 165, runner).synthesize("아니요")
    pcm = silence(300, 16000) + resample_block(resample_block(speech.pcm, speech.rate, 8000),
                                                8000, 16000) + silence(700, 16000)
    stream = await RecognitionStream.open(ko_model, runner)
    await stream.begin(("여권", "아니요"))
    await stream.accept(pcm)
    assert (await stream.finish()).text == "아니요"


async def test_debian_espeak_ng_program() -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("Debian package espeak-ng not installed")
    engine = EspeakCliEngine.create("de", 165)
    assert_speech(await engine.synthesize(GERMAN), 1.5)
    # Text goes on stdin: a leading dash is spoken, not taken as an option.
    assert_speech(await engine.synthesize("--help"), 0.3)


async def test_debian_pico() -> None:
    if shutil.which("pico2wave") is None:
        pytest.skip("Debian package libttspico-utils (non-free) not installed")
    assert_speech(await PicoEngine.create().synthesize(GERMAN), 1.5)


def fake_piper(tmp_path: Path) -> Path:
    """Stands in for the Piper program: records its arguments and input, answers 0.5 s of
    raw audio at the voice's rate."""
    script = tmp_path / "piper"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, pathlib\n"
        "args = sys.argv[1:]\n"
        "text = sys.stdin.read()\n"
        "pathlib.Path(__file__).with_suffix('.log').write_text(json.dumps([args, text]))\n"
        "sys.stdout.buffer.write(b'\\x10\\x27' * 11025)\n")
    script.chmod(0o755)
    return script


async def test_piper_program_contract(tmp_path: Path) -> None:
    program = fake_piper(tmp_path)
    voice = tmp_path / "de_DE-thorsten-medium.onnx"
    voice.write_bytes(b"onnx")
    Path(str(voice) + ".json").write_text(json.dumps({"audio": {"sample_rate": 22050}}))
    engine = create_engine(VoiceSettings(tts_engine="piper", piper_binary=str(program),
                                         piper_voice=voice), BlockingRunner(1))
    assert isinstance(engine, PiperEngine)
    speech = await engine.synthesize("Guten Tag.\nWie geht es?")
    assert speech.rate == 22050 and speech.seconds == pytest.approx(0.5)
    args, text = json.loads((tmp_path / "piper.log").read_text())
    assert args == ["--model", str(voice), "--output-raw"]
    assert text == "Guten Tag. Wie geht es?\n"


def test_piper_needs_its_voice_files(tmp_path: Path) -> None:
    program = fake_piper(tmp_path)
    with pytest.raises(TtsUnavailable) as info:
        PiperEngine.create(str(program), tmp_path / "missing.onnx")
    assert info.value.code == "tts-engine-unavailable"
    with pytest.raises(TtsUnavailable):
        PiperEngine.create(str(tmp_path / "no-such-piper"), tmp_path / "missing.onnx")


async def test_cache_answers_repeated_sentences_without_synthesis() -> None:
    class Counting:
        name = "counting"
        calls = 0

        async def synthesize(self, text: str) -> Speech:
            Counting.calls += 1
            return Speech(b"\x00\x00" * 100, 16000)

        async def close(self) -> None:
            return None

    cache = CachedTts(Counting(), size=2)
    for text in ["a", "b", "a", "a", "c", "b"]:
        await cache.synthesize(text)
    assert Counting.calls == 4  # a, b, c, and b again after it was evicted
