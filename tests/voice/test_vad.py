"""Voice activity detection and end of utterance, on synthetic signals and real speech."""

from __future__ import annotations

import numpy as np
import pytest

from tests.voice.voice_helpers import espeak
from voice.audio import pcm_to_float
from voice.vad import EnergyVad, Segment, UtteranceSegmenter, VadConfig

FRAME = 320  # 20 ms at 16 kHz


def frames(samples: np.ndarray) -> list[np.ndarray]:
    return [samples[i:i + FRAME] for i in range(0, len(samples) - FRAME + 1, FRAME)]


def run(config: VadConfig, samples: np.ndarray) -> list[tuple[int, Segment]]:
    vad, seg = EnergyVad(config), UtteranceSegmenter(config)
    out = []
    for i, frame in enumerate(frames(samples)):
        event = seg.process(vad.is_speech(frame))
        if event is not None:
            out.append((i * 20, event))
    return out


def noise(seconds: float, level: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(16000 * seconds)) * level).astype(np.float32)


def burst(seconds: float) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)


def test_speech_between_silences_starts_and_ends_after_the_configured_silence() -> None:
    config = VadConfig(start_ms=100, end_silence_ms=600)
    signal = np.concatenate([noise(1.0, 0.001), burst(1.0), noise(1.0, 0.001)])
    events = run(config, signal)
    assert [e for _, e in events] == [Segment.SPEECH_START, Segment.SPEECH_END]
    start, end = events[0][0], events[1][0]
    assert 1000 <= start <= 1120  # after start_ms of speech
    assert end == pytest.approx(2000 + 600, abs=40)  # end_silence_ms after the speech


def test_end_silence_is_configurable() -> None:
    signal = np.concatenate([noise(0.5, 0.001), burst(0.5), noise(1.5, 0.001)])
    short = run(VadConfig(end_silence_ms=300), signal)[1][0]
    long = run(VadConfig(end_silence_ms=900), signal)[1][0]
    assert long - short == pytest.approx(600, abs=40)


def test_a_click_is_not_speech_and_steady_noise_becomes_the_floor() -> None:
    config = VadConfig()
    signal = np.concatenate([noise(2.0, 0.003), burst(0.04), noise(2.0, 0.003)])
    assert run(config, signal) == []
    # A steady hiss at -40 dBFS counts as speech only until it has filled the noise window.
    vad = EnergyVad(config)
    decisions = [vad.is_speech(frame) for frame in frames(noise(5.0, 0.01))]
    assert -45 < vad.noise_floor_db < -38
    assert not any(decisions[-50:])
    events = run(config, np.concatenate([noise(5.0, 0.01), burst(1.0), noise(2.0, 0.01)]))
    assert [e for _, e in events][-2:] == [Segment.SPEECH_START, Segment.SPEECH_END]


def test_a_long_utterance_is_cut_at_the_maximum() -> None:
    config = VadConfig(max_utterance_ms=2000)
    events = run(config, np.concatenate([noise(0.2, 0.001), burst(5.0)]))
    assert [e for _, e in events][:2] == [Segment.SPEECH_START, Segment.SPEECH_END]
    assert events[1][0] - events[0][0] == pytest.approx(2000 - 100, abs=60)


def test_barge_in_needs_longer_speech_than_a_normal_start() -> None:
    config = VadConfig(start_ms=100, barge_in_ms=300)
    seg = UtteranceSegmenter(config)
    assert [seg.process(True, 300) for _ in range(14)].count(Segment.SPEECH_START) == 0
    assert seg.process(True, 300) is Segment.SPEECH_START


def test_real_synthetic_speech_is_one_utterance() -> None:
    speech = pcm_to_float(espeak("Ich brauche einen neuen Reisepass.", "de", 16000))
    signal = np.concatenate([noise(0.5, 0.0005), speech, noise(1.0, 0.0005)])
    events = [e for _, e in run(VadConfig(end_silence_ms=500), signal)]
    assert events == [Segment.SPEECH_START, Segment.SPEECH_END]


def test_config_is_validated() -> None:
    with pytest.raises(ValueError):
        VadConfig(frame_ms=15)
    with pytest.raises(ValueError):
        VadConfig(end_silence_ms=5000, max_utterance_ms=4000)
