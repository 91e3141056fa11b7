"""Streaming recognition with the real Vosk library and the real Korean model, driven by
Korean speech synthesised by espeak-ng."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.voice.voice_helpers import espeak, silence
from voice.asr import AsrModel, RecognitionStream, parse_result
from voice.audio import StreamResampler
from voice.errors import ModelMissing
from voice.executor import BlockingRunner


@pytest.fixture
async def runner() -> BlockingRunner:
    runner = BlockingRunner(2)
    yield runner
    await asyncio.to_thread(runner.shutdown)


async def recognise(stream: RecognitionStream, pcm16k: bytes,
                    grammar: tuple[str, ...] | None = None) -> tuple[list[str], object]:
    await stream.begin(grammar)
    partials = []
    for i in range(0, len(pcm16k), 3200):  # 100 ms chunks, as the session feeds them
        partials.append(await stream.accept(pcm16k[i:i + 3200]))
    return partials, await stream.finish()


def test_missing_model_is_an_explicit_error(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing) as info:
        AsrModel.load(tmp_path)
    assert info.value.code == "asr-model-missing"
    with pytest.raises(ModelMissing):
        AsrModel.load(None)


def test_the_small_model_supports_phrase_grammars(ko_model: AsrModel) -> None:
    assert ko_model.supports_grammar
    # Only phrases whose words the model knows become grammar entries.
    assert ko_model.known_phrases(("여권 신청", "Personalausweis", "여권, 신청!")) == ["여권 신청"]


async def test_streaming_recognition_gives_partials_and_word_confidences(
        ko_model: AsrModel, runner: BlockingRunner) -> None:
    stream = await RecognitionStream.open(ko_model, runner)
    pcm = silence(300, 16000) + espeak("여권을 신청하고 싶습니다", "ko", 16000) + silence(700, 16000)
    partials, transcript = await recognise(stream, pcm)
    assert any(partials)  # text grows while the caller speaks
    assert transcript.text and transcript.words
    assert all(0 < w.confidence <= 1 for w in transcript.words)
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    assert 0 < transcript.confidence <= 1
    assert " ".join(w.word for w in transcript.words) == transcript.text


async def test_phrase_hints_constrain_recognition(ko_model: AsrModel,
                                                 runner: BlockingRunner) -> None:
    stream = await RecognitionStream.open(ko_model, runner)
    pcm = silence(300, 16000) + espeak("여권 신청", "ko", 16000) + silence(700, 16000)
    _, hinted = await recognise(stream, pcm, ("여권 신청", "안녕하세요"))
    assert hinted.text == "여권 신청"
    # The same recogniser returns to the full vocabulary for the next utterance.
    _, free = await recognise(stream, pcm)
    assert free.text and free.text != "여권 신청"
    # Hints the model cannot use leave recognition open.
    assert await stream.begin(("Personalausweis",)) is False


async def test_telephony_audio_is_resampled_to_the_model_rate(
        ko_model: AsrModel, runner: BlockingRunner) -> None:
    stream = await RecognitionStream.open(ko_model, runner)
    pcm8k = silence(300, 8000) + espeak("아니요", "ko", 8000) + silence(600, 8000)
    resampler = StreamResampler(8000, 16000)
    pcm16k = b"".join(resampler.process_pcm(pcm8k[i:i + 320]) for i in range(0, len(pcm8k), 320))
    assert len(pcm16k) == pytest.approx(2 * len(pcm8k), abs=4)
    _, transcript = await recognise(stream, pcm16k, ("여권", "아니요"))
    assert transcript.text == "아니요"


async def test_an_utterance_with_a_long_pause_keeps_both_parts(
        ko_model: AsrModel, runner: BlockingRunner) -> None:
    # Vosk's own endpointing closes a segment after about a second of silence; our
    # utterance (ended by our VAD) keeps every segment.
    stream = await RecognitionStream.open(ko_model, runner)
    word = espeak("아니요", "ko", 16000)
    pcm = silence(300, 16000) + word + silence(1500, 16000) + word + silence(300, 16000)
    _, transcript = await recognise(stream, pcm, ("여권", "아니요"))
    assert transcript.text == "아니요 아니요"


async def test_one_recogniser_per_call(ko_model: AsrModel, runner: BlockingRunner) -> None:
    first = await RecognitionStream.open(ko_model, runner)
    second = await RecognitionStream.open(ko_model, runner)
    a = silence(300, 16000) + espeak("안녕하세요", "ko", 16000) + silence(700, 16000)
    b = silence(300, 16000) + espeak("아니요", "ko", 16000) + silence(700, 16000)
    grammar = ("안녕하세요", "아니요")
    (_, ta), (_, tb) = await asyncio.gather(recognise(first, a, grammar),
                                            recognise(second, b, grammar))
    assert (ta.text, tb.text) == ("안녕하세요", "아니요")


async def test_vosk_server_style_chunks(ko_model: AsrModel, runner: BlockingRunner) -> None:
    stream = await RecognitionStream.open(ko_model, runner)
    pcm = espeak("안녕하세요", "ko", 16000) + silence(300, 16000)
    replies = [json.loads(await stream.process_chunk(pcm[i:i + 8000]))
               for i in range(0, len(pcm), 8000)]
    assert all("partial" in r or "text" in r for r in replies)
    final = json.loads(await stream.final_json())
    assert "text" in final


def test_unknown_words_are_dropped_from_results() -> None:
    raw = json.dumps({"text": "[unk] 여권", "result": [
        {"word": "[unk]", "conf": 0.5, "start": 0.0, "end": 0.3},
        {"word": "여권", "conf": 0.9, "start": 0.3, "end": 0.8}]})
    transcript = parse_result(raw)
    assert transcript.text == "여권"
    assert [w.word for w in transcript.words] == ["여권"]
