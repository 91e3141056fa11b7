"""The voice line's long-lived resources, with one owner: the Vosk model (loaded once, read-only),
the bounded executor, the speech engine and the call limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog

from voice.asr import AsrModel, RecognitionStream
from voice.executor import BlockingRunner
from voice.handoff import CallRoutes
from voice.settings import VoiceSettings
from voice.tts import CachedTts, create_engine

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class VoiceRuntime:
    settings: VoiceSettings
    model: AsrModel
    runner: BlockingRunner
    tts: CachedTts
    routes: CallRoutes
    calls: asyncio.Semaphore

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
