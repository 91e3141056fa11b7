"""Pure audio helpers: conversion, streaming resampling, framing, playback pacing."""

from __future__ import annotations

import numpy as np
import pytest

from voice.audio import (
    AudioFormat,
    Framer,
    StreamResampler,
    float_to_pcm,
    frame_due_at,
    pcm_to_float,
    resample_block,
    rms_dbfs,
)


def tone(freq: float, rate: int, seconds: float = 1.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum)) * rate / len(samples)


def test_pcm_round_trip_and_levels() -> None:
    samples = np.array([0.0, 0.5, -0.5, -1.0], dtype=np.float32)
    assert np.allclose(pcm_to_float(float_to_pcm(samples)), samples, atol=1 / 32768)
    assert float_to_pcm(np.array([2.0, -2.0])) == b"\xff\x7f\x00\x80"  # clipped
    assert rms_dbfs(np.zeros(160, dtype=np.float32)) == -120.0
    assert rms_dbfs(tone(440, 8000)) == pytest.approx(-9.03, abs=0.05)  # 0.5 sine
    with pytest.raises(ValueError):
        pcm_to_float(b"\x00")


def test_audio_format_states_rate_width_channels() -> None:
    assert AudioFormat(8000).bytes_for_ms(20) == 320
    assert AudioFormat(16000).to_wire() == {"rate": 16000, "width": 2, "channels": 1}
    with pytest.raises(ValueError):
        AudioFormat(8000, width=1)


@pytest.mark.parametrize(("src", "dst"), [(8000, 16000), (16000, 8000), (48000, 16000),
                                          (44100, 16000), (22050, 8000), (16000, 16000)])
def test_stream_resampler_keeps_pitch_and_length_and_ignores_chunking(src: int, dst: int) -> None:
    x = tone(440, src)
    whole = StreamResampler(src, dst).process(x)
    chunked_resampler = StreamResampler(src, dst)
    chunked = np.concatenate([chunked_resampler.process(x[i:i + 333])
                              for i in range(0, len(x), 333)])
    assert len(whole) == pytest.approx(dst, abs=1)
    assert np.array_equal(whole, chunked)
    assert peak_frequency(whole[len(whole) // 4:], dst) == pytest.approx(440, abs=2)


@pytest.mark.parametrize(("src", "dst"), [(16000, 8000), (48000, 16000), (44100, 16000)])
def test_downsampling_suppresses_what_would_alias(src: int, dst: int) -> None:
    # A tone at 1.5 × the new Nyquist frequency must not fold back into the band.
    x = tone(dst / 2 * 1.5, src)
    y = StreamResampler(src, dst).process(x)
    assert rms_dbfs(y[200:]) - rms_dbfs(x) < -60


def test_block_resampling_for_synthesised_speech() -> None:
    pcm = float_to_pcm(tone(300, 22050))
    out = resample_block(pcm, 22050, 8000)
    assert len(out) // 2 == 8000
    assert peak_frequency(pcm_to_float(out), 8000) == pytest.approx(300, abs=2)
    assert resample_block(pcm, 8000, 8000) is pcm


def test_framer_cuts_fixed_frames_and_pads_the_rest() -> None:
    framer = Framer(4)
    assert framer.push(b"abcdef") == [b"abcd"]
    assert framer.push(b"gh") == [b"efgh"]
    assert framer.push(b"ij") == []
    assert framer.flush() == [b"ij\x00\x00"]
    assert framer.flush() == []
    with pytest.raises(ValueError):
        Framer(3)


def test_real_time_pacing_keeps_a_small_lead() -> None:
    # The lead (5 frames) and the first frame go at once; then one frame every 20 ms.
    assert [frame_due_at(10.0, i, 0.02, 5) for i in range(6)] == [10.0] * 6
    assert frame_due_at(10.0, 6, 0.02, 5) == pytest.approx(10.02)
    assert frame_due_at(10.0, 55, 0.02, 5) == pytest.approx(11.0)
