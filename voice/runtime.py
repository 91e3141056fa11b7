"""The voice line's long-lived resources, with one owner: the Vosk model (loaded once, read-only),
the bounded executor, the speech engine and the call limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from voice.asr import AsrModel, RecognitionStream
from voice.executor import BlockingRunner
from voice.handoff import CallRoutes
from voice.settings import VoiceSettings
from voice.tts import CachedTts, create_engine

log = structlog.get_logger(__name__)


class Call(Protocol):
    async def take_over(self, target: str) -> None: ...


class ActiveCalls:
    """The calls running in this process, by call id (= conversation id)."""

    def __init__(self) -> None:
        self._calls: dict[str, Call] = {}

    def add(self, call_id: str, call: Call) -> None:
        self._calls[call_id] = call

    def remove(self, call_id: str) -> None:
        self._calls.pop(call_id, None)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._calls

    def __len__(self) -> int:
        return len(self._calls)

    async def transfer(self, call_id: str, target: str) -> bool:
        """Staff takes over: the caller hears the transfer notice, then the PBX connects
        ``target``. False if the call is not (or no longer) on this voice line."""
        call = self._calls.get(call_id)
        if call is None:
            return False
        await call.take_over(target)
        return True


@dataclass(slots=True)
class VoiceRuntime:
    settings: VoiceSettings
    model: AsrModel
    runner: BlockingRunner
    tts: CachedTts
    routes: CallRoutes
    calls: asyncio.Semaphore
    active: ActiveCalls = field(default_factory=ActiveCalls)

    async def open_stream(self) -> RecognitionStream:
        return await RecognitionStream.open(self.model, self.runner)

    async def warm_up(self) -> None:
        """Synthesise the fixed prompts now, so a new call hears its greeting at once."""
        from voice.spoken import sentences

        for text in (self.settings.prompts.greeting, self.settings.prompts.reprompt,
                     self.settings.prompts.transfer, self.settings.prompts.goodbye):
            for sentence in sentences(text):
                await self.tts.synthesize(sentence)


@asynccontextmanager
async def open_runtime(settings: VoiceSettings,
                       model: AsrModel | None = None) -> AsyncIterator[VoiceRuntime]:
    """Load the model (unless given, e.g. shared by tests), start the executor and the speech
    engine, synthesise the fixed prompts; tear all of it down on exit."""
    runner = BlockingRunner(settings.worker_threads)
    try:
        if model is None:
            model = await runner.run(AsrModel.load, settings.model_path)
        engine = create_engine(settings, runner)
        runtime = VoiceRuntime(settings, model, runner, CachedTts(engine), CallRoutes(),
                               asyncio.Semaphore(settings.max_calls))
        await runtime.warm_up()
        log.info("voice.runtime.ready", tts=engine.name, grammar=model.supports_grammar)
        try:
            yield runtime
        finally:
            await engine.close()
    finally:
        await asyncio.to_thread(runner.shutdown)
