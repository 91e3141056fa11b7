"""Audio formats, sample conversion, streaming resampling and framing (pure; no I/O).

All audio inside the voice package is signed 16-bit little-endian mono PCM ("s16le"); its rate is
always carried next to it in an :class:`AudioFormat`. Recognition runs at 16 kHz; telephony
delivers 8 kHz, browsers 44.1 or 48 kHz, TTS engines 16 or 22.05 kHz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import firwin, resample_poly

ASR_RATE = 16000
TELEPHONY_RATE = 8000


@dataclass(frozen=True, slots=True)
class AudioFormat:
    rate: int
    width: int = 2  # bytes per sample
    channels: int = 1

    def __post_init__(self) -> None:
        if not 4000 <= self.rate <= 192000:
            raise ValueError(f"sample rate {self.rate} out of range")
        if self.width != 2 or self.channels != 1:
            raise ValueError("only 16-bit mono PCM is supported")

    def bytes_for_ms(self, ms: int) -> int:
        return self.rate * ms // 1000 * self.width * self.channels

    def to_wire(self) -> dict[str, int]:
        return {"rate": self.rate, "width": self.width, "channels": self.channels}


def pcm_to_float(pcm: bytes) -> NDArray[np.float32]:
    """s16le bytes → float32 samples in [-1, 1)."""
    if len(pcm) % 2:
        raise ValueError("PCM byte count must be even for 16-bit samples")
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm(samples: NDArray[np.floating]) -> bytes:
    """float samples in [-1, 1) → s16le bytes, clipped."""
    scaled = np.clip(np.rint(np.asarray(samples, dtype=np.float64) * 32768.0), -32768, 32767)
    return scaled.astype("<i2").tobytes()


def rms_dbfs(samples: NDArray[np.floating]) -> float:
    """Root-mean-square level in dB relative to full scale; digital silence is -120."""
    if samples.size == 0:
        return -120.0
    power = float(np.mean(np.square(samples, dtype=np.float64)))
    return max(-120.0, 10.0 * math.log10(power)) if power > 0 else -120.0


def resample_block(pcm: bytes, in_rate: int, out_rate: int) -> bytes:
    """Resample a whole block (a synthesised sentence) with a polyphase anti-aliasing filter."""
    if in_rate == out_rate or not pcm:
        return pcm
    g = math.gcd(in_rate, out_rate)
    out = resample_poly(pcm_to_float(pcm), out_rate // g, in_rate // g)
    return float_to_pcm(out)


class StreamResampler:
    """Rational-ratio polyphase resampler for a stream that arrives in arbitrary chunks.

    Output sample ``n`` sits at upsampled time ``t = n*down``; it is the dot product of the
    ``taps`` most recent input samples with phase ``t % up`` of a Kaiser-windowed low-pass
    prototype (cut-off below the lower of both Nyquist rates, so down-sampling does not alias
    and up-sampling does not image). The result does not depend on how the input was chunked.
    """

    def __init__(self, in_rate: int, out_rate: int, taps_per_phase: int = 32) -> None:
        g = math.gcd(in_rate, out_rate)
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._up = out_rate // g
        self._down = in_rate // g
        self._k = taps_per_phase
        if self._up == self._down:
            self._phases = np.ones((1, 1), dtype=np.float32)
            self._k = 1
        else:
            n = self._k * self._up
            cutoff = 0.92 / max(self._up, self._down)
            proto = firwin(n, cutoff, window=("kaiser", 8.0)) * self._up
            # phases[p, q] = proto[p + q*up]
            self._phases = proto.reshape(self._k, self._up).T.astype(np.float32)
        self._buf = np.zeros(self._k - 1, dtype=np.float32)  # history, zeros before the start
        self._buf_start = -(self._k - 1)  # global input index of _buf[0]
        self._received = 0  # input samples received
        self._next_out = 0  # global index of the next output sample

    def process(self, samples: NDArray[np.floating]) -> NDArray[np.float32]:
        if self._up == self._down:
            return np.asarray(samples, dtype=np.float32)
        self._buf = np.concatenate([self._buf, np.asarray(samples, dtype=np.float32)])
        self._received += len(samples)
        last_in = self._received - 1
        # The largest n with (n*down)//up <= last_in.
        end = ((last_in + 1) * self._up + self._down - 1) // self._down if last_in >= 0 else 0
        ns = np.arange(self._next_out, end, dtype=np.int64)
        if ns.size == 0:
            return np.zeros(0, dtype=np.float32)
        t = ns * self._down
        base = t // self._up - self._buf_start
        idx = base[:, None] - np.arange(self._k)[None, :]
        out = np.einsum("ij,ij->i", self._buf[idx], self._phases[t % self._up])
        self._next_out = int(end)
        # Keep only the history the next output still needs.
        keep_from = (self._next_out * self._down) // self._up - (self._k - 1)
        drop = keep_from - self._buf_start
        if drop > 0:
            self._buf = self._buf[drop:]
            self._buf_start = keep_from
        return out.astype(np.float32)

    def process_pcm(self, pcm: bytes) -> bytes:
        return float_to_pcm(self.process(pcm_to_float(pcm)))


class Framer:
    """Cuts a byte stream into fixed-size frames, carrying the remainder to the next call."""

    def __init__(self, frame_bytes: int) -> None:
        if frame_bytes <= 0 or frame_bytes % 2:
            raise ValueError("frame size must be a positive, even number of bytes")
        self.frame_bytes = frame_bytes
        self._rest = b""

    def push(self, data: bytes) -> list[bytes]:
        data = self._rest + data
        cut = len(data) - len(data) % self.frame_bytes
        self._rest = data[cut:]
        return [data[i:i + self.frame_bytes] for i in range(0, cut, self.frame_bytes)]

    def flush(self, pad: bool = True) -> list[bytes]:
        """The remainder as a last frame (padded with silence), or nothing."""
        rest, self._rest = self._rest, b""
        if not rest:
            return []
        return [rest + b"\x00" * (self.frame_bytes - len(rest))] if pad else [rest]


def frame_due_at(start: float, index: int, frame_s: float, lead_frames: int) -> float:
    """When a real-time player sends frame ``index`` (0-based) to stay ``lead_frames`` ahead
    of the listener: the first ``lead_frames + 1`` frames go at once, then one per frame."""
    return start + max(0, index - lead_frames) * frame_s
