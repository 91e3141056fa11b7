"""Recognition load of the voice line: calls in progress, audio recognised, real-time factor,
and the phone's chat turns — from the call events and the recogniser's worker threads."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from aiohttp import web

from bot.observability.metrics import GatewayMetrics, Outcome, classify
from voice.audio import ASR_RATE
from voice.events import EventType, VoiceEvent
from voice.executor import BlockingRunner

P = ParamSpec("P")
T = TypeVar("T")
BYTES_PER_SECOND = ASR_RATE * 2  # 16 kHz s16le mono


class MeasuredRunner(BlockingRunner):
    """The voice runtime's blocking runner, timing the work in the thread. A call whose first
    argument is audio (bytes) is a recognition step: its seconds of audio and of decoding are
    counted and its real-time factor observed; other work (final results, resets) only adds
    decode time."""

    def __init__(self, inner: BlockingRunner, metrics: GatewayMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        audio = len(args[0]) / BYTES_PER_SECOND if args and isinstance(args[0], bytes) else 0.0
        metrics = self._metrics

        def timed() -> T:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                metrics.voice_decode_seconds.inc(spent)
                if audio > 0:
                    metrics.voice_audio_seconds.inc(audio)
                    metrics.voice_rtf.observe(spent / audio)

        return await self._inner.run(timed)

    def shutdown(self) -> None:
        self._inner.shutdown()


def voice_event_observer(metrics: GatewayMetrics) -> Callable[[VoiceEvent], None]:
    """The voice pipeline's event callback, for the metrics."""

    def observe(event: VoiceEvent) -> None:
        if event.type is EventType.CALL_START:
            metrics.voice_calls_active.inc()
            metrics.conversations_started.labels("voice").inc()
        elif event.type is EventType.CALL_END:
            metrics.voice_calls_active.dec()
        elif event.type is EventType.DIALOGUE_END:
            messages: list[dict[str, Any]] = event.data.get("messages") or []
            outcome = classify(messages, event.data.get("handoff"))
            metrics.chat_turns.labels("voice", outcome.value).inc()
        elif event.type is EventType.ERROR and event.data.get("stage") == "dialogue":
            metrics.chat_turns.labels("voice", Outcome.ERROR.value).inc()

    return observe


def measure_recognition(app: web.Application, metrics: GatewayMetrics) -> None:
    """on_startup (after the voice runtime started): time the recogniser's work. Streams
    opened from now on (every call) use the measured runner; speech synthesis keeps its own."""
    from voice.web import VOICE

    state = app.get(VOICE)
    runtime = state.runtime if state is not None else None
    if runtime is not None and not isinstance(runtime.runner, MeasuredRunner):
        runtime.runner = MeasuredRunner(runtime.runner, metrics)
