"""Voice activity detection and end-of-utterance segmentation (pure; no I/O).

:class:`EnergyVad` decides per frame whether it holds speech: the frame's level must clear both
an absolute floor and an adaptive noise floor by a margin. :class:`UtteranceSegmenter` turns the
per-frame decisions into "speech started" / "speech ended" with hysteresis: speech must last
``start_ms`` to count (a click is not a caller), and an utterance ends after ``end_silence_ms``
of silence or when it reaches ``max_utterance_ms``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from voice.audio import rms_dbfs

_INITIAL_FLOOR_DB = -70.0


@dataclass(frozen=True, slots=True)
class VadConfig:
    frame_ms: int = 20
    # A frame is speech if louder than this absolute level ...
    min_speech_dbfs: float = -48.0
    # ... and this many dB above the running noise floor.
    margin_db: float = 12.0
    start_ms: int = 100
    end_silence_ms: int = 500
    max_utterance_ms: int = 15000
    # Barge-in needs more than the start of speech: a cough should not cut the bot off.
    barge_in_ms: int = 240
    # The noise floor is the quietest frame of this window.
    noise_window_ms: int = 3000

    def __post_init__(self) -> None:
        if self.frame_ms not in (10, 20, 30):
            raise ValueError("frame_ms must be 10, 20 or 30")
        for name in ("start_ms", "end_silence_ms", "max_utterance_ms", "barge_in_ms"):
            if getattr(self, name) < self.frame_ms:
                raise ValueError(f"{name} must be at least one frame")
        if self.end_silence_ms >= self.max_utterance_ms:
            raise ValueError("end_silence_ms must be shorter than max_utterance_ms")


class EnergyVad:
    """Per-frame speech decision against an adaptive noise floor.

    The floor is the quietest frame of the last ``noise_window_ms`` (minimum statistics):
    speech has pauses between words, so the minimum follows the line noise, and a steady hiss
    becomes the floor after one window instead of counting as endless speech.
    """

    def __init__(self, config: VadConfig) -> None:
        self._config = config
        window = max(1, config.noise_window_ms // config.frame_ms)
        self._levels: deque[float] = deque([_INITIAL_FLOOR_DB] * window, maxlen=window)

    @property
    def noise_floor_db(self) -> float:
        return max(min(self._levels), -90.0)

    def is_speech(self, frame: NDArray[np.floating]) -> bool:
        level = rms_dbfs(frame)
        self._levels.append(level)
        threshold = max(self._config.min_speech_dbfs, self.noise_floor_db + self._config.margin_db)
        return level > threshold


class Segment(StrEnum):
    SPEECH_START = "speech-start"
    SPEECH_END = "speech-end"


class UtteranceSegmenter:
    """Hysteresis over per-frame decisions; reports the start and the end of an utterance."""

    def __init__(self, config: VadConfig) -> None:
        self._config = config
        self.in_speech = False
        self._speech_run = 0  # ms of consecutive speech frames
        self._silence_run = 0  # ms of consecutive silence inside an utterance
        self.utterance_ms = 0

    @property
    def speech_run_ms(self) -> int:
        return self._speech_run

    def reset(self) -> None:
        self.in_speech = False
        self._speech_run = self._silence_run = self.utterance_ms = 0

    def process(self, speech: bool, start_ms: int | None = None) -> Segment | None:
        """One frame's decision; ``start_ms`` overrides how much speech starts an utterance
        (longer while the bot talks, so a cough does not barge in)."""
        step = self._config.frame_ms
        needed = self._config.start_ms if start_ms is None else start_ms
        if speech:
            self._speech_run += step
            self._silence_run = 0
        else:
            self._speech_run = 0
            self._silence_run += step
        if not self.in_speech:
            if self._speech_run >= needed:
                self.in_speech = True
                self.utterance_ms = self._speech_run
                return Segment.SPEECH_START
            return None
        self.utterance_ms += step
        if (self._silence_run >= self._config.end_silence_ms
                or self.utterance_ms >= self._config.max_utterance_ms):
            self.in_speech = False
            self._silence_run = 0
            self._speech_run = 0
            return Segment.SPEECH_END
        return None
