"""One voice call: audio in → recognition → dialogue → speech → audio out.

:class:`VoiceSession` is the I/O shell around the pure :class:`voice.call.CallFlow`: it runs
voice activity detection on the caller's audio, drives the recogniser, asks the dialogue, speaks
answers in real time and executes the flow's commands. Transports (AudioSocket, browser page)
are thin adapters: they feed audio and keys in and implement :class:`CallOutput`.
Every stage reports typed :class:`voice.events.VoiceEvent` through one callback.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

import structlog

from bot.messages import BotMessage
from voice.audio import (
    ASR_RATE,
    AudioFormat,
    Framer,
    StreamResampler,
    frame_due_at,
    pcm_to_float,
    resample_block,
)
from voice.call import (
    Ask,
    CallFlow,
    CallState,
    Command,
    FlowConfig,
    Hangup,
    Note,
    QueueHandoff,
    Recognise,
    Say,
    SendLinks,
    StopPlayback,
    Transfer,
)
from voice.errors import AsrError, TtsError
from voice.events import EventCallback, EventType, VoiceEvent
from voice.handoff import HandoffOutcome, HandoffQueue, LinkSender, NoLinkSender, Route
from voice.runtime import VoiceRuntime
from voice.spoken import sentences
from voice.vad import EnergyVad, Segment, UtteranceSegmenter

log = structlog.get_logger(__name__)

FRAME_MS = 20
_ASR_FRAME_BYTES = ASR_RATE * FRAME_MS // 1000 * 2
_ASR_BATCH_FRAMES = 5  # hand Vosk 100 ms at a time


class Dialogue(Protocol):
    async def send(self, conversation_id: str, text: str,
                   metadata: dict[str, Any] | None = None) -> list[BotMessage]: ...


class CallOutput(Protocol):
    """What a transport offers the session: audio out (in ``format``), and ending the call."""

    format: AudioFormat

    async def send_audio(self, pcm: bytes) -> None: ...

    async def clear_audio(self) -> None: ...

    async def transfer(self, route: Route) -> None: ...

    async def hangup(self) -> None: ...


_NOTES = {"barge-in": EventType.BARGE_IN, "reprompt": EventType.REPROMPT, "dtmf": EventType.DTMF}


class VoiceSession:
    def __init__(self, runtime: VoiceRuntime, *, call_id: str, input_rate: int,
                 output: CallOutput, dialogue: Dialogue, handoff: HandoffQueue,
                 links: LinkSender | None = None, on_event: EventCallback | None = None,
                 transport: str = "audiosocket") -> None:
        settings = runtime.settings
        self.call_id = call_id
        self._runtime = runtime
        self._output = output
        self._dialogue = dialogue
        self._handoff = handoff
        self._links = links or NoLinkSender()
        self._on_event = on_event
        self._transport = transport
        self._input_rate = input_rate
        self.flow = CallFlow(
            FlowConfig(settings.reprompt_after_ms, settings.max_reprompts,
                       settings.dtmf_timeout_ms, settings.transfer_target,
                       settings.phrase_hints, settings.use_grammar,
                       offer_links=not isinstance(self._links, NoLinkSender)),
            settings.prompts)
        self._vad_config = settings.vad
        self._vad = EnergyVad(settings.vad)
        self._segmenter = UtteranceSegmenter(settings.vad)
        self._resampler = StreamResampler(input_rate, ASR_RATE)
        self._framer = Framer(_ASR_FRAME_BYTES)
        preroll_ms = max(settings.vad.start_ms, settings.vad.barge_in_ms) + 200
        self._preroll: deque[bytes] = deque(maxlen=preroll_ms // FRAME_MS)
        self._stream: Any = None
        self._recognising = False
        self._grammar_used = False
        self._batch: list[bytes] = []
        self._utterance: list[bytes] = []
        self._last_partial = ""
        self._playback: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._keep: set[asyncio.Task[None]] = set()  # handoff writes survive the call's end
        self._lead_frames = max(1, settings.playback_lead_ms // FRAME_MS)
        self._t0 = 0.0
        self.ended = asyncio.Event()
        self.end_reason = ""

    # -- events -------------------------------------------------------------------------------
    async def _emit(self, type_: EventType, **data: Any) -> None:
        if self._on_event is None:
            return
        at = asyncio.get_running_loop().time() - self._t0
        try:
            result = self._on_event(VoiceEvent(type_, self.call_id, data, at))
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("voice.event.callback_failed", event=type_.value)

    def _spawn(self, coro: Any, *, keep: bool = False) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        group = self._keep if keep else self._tasks
        group.add(task)
        task.add_done_callback(group.discard)
        return task

    # -- inputs from the transport ------------------------------------------------------------
    async def start(self) -> None:
        self._t0 = asyncio.get_running_loop().time()
        await self._emit(EventType.CALL_START, transport=self._transport,
                         input=AudioFormat(self._input_rate).to_wire(),
                         output=self._output.format.to_wire())
        self._stream = await self._runtime.open_stream()
        self._runtime.active.add(self.call_id, self)
        log.info("voice.call.started", transport=self._transport)
        await self._apply(self.flow.start())

    async def feed_audio(self, pcm: bytes) -> None:
        """Caller audio, s16le mono at the input rate given at creation."""
        if self.ended.is_set():
            return
        for frame in self._framer.push(self._resampler.process_pcm(pcm)):
            await self._on_frame(frame)
            if self.ended.is_set():
                return

    async def feed_dtmf(self, digit: str) -> None:
        if not self.ended.is_set():
            await self._apply(self.flow.dtmf(digit))

    async def inject_utterance(self, text: str, confidence: float | None = None) -> None:
        """A caller utterance given as text (typed on the page, or recognised elsewhere)."""
        if self.ended.is_set():
            return
        await self._apply([c for c in self.flow.speech_started() if not isinstance(c, Recognise)])
        await self._emit(EventType.STT_END, text=text, confidence=confidence, words=[],
                         injected=True)
        await self._apply(self.flow.utterance(text, confidence))

    async def take_over(self, target: str) -> None:
        """Staff took the call in the console (see :class:`voice.runtime.ActiveCalls`)."""
        if not self.ended.is_set():
            await self._apply(self.flow.staff_takeover(target))

    async def close(self, reason: str) -> None:
        if self.ended.is_set():
            return
        self.end_reason = reason
        self.flow.hangup()
        self.ended.set()
        self._runtime.active.remove(self.call_id)
        current = asyncio.current_task()
        pending = [t for t in [*self._tasks, self._playback] if t is not None and t is not current]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        keep = [t for t in self._keep if t is not current]
        if keep:
            await asyncio.wait(keep, timeout=10)
        await self._emit(EventType.CALL_END, reason=reason,
                         transcript=[line.to_wire() for line in self.flow.transcript])
        log.info("voice.call.ended", reason=reason, turns=self.flow.turn)

    # -- audio in: VAD, segmentation, recognition ------------------------------------------------
    async def _on_frame(self, frame: bytes) -> None:
        speech = self._vad.is_speech(pcm_to_float(frame))
        self._preroll.append(frame)
        start_ms = self._vad_config.barge_in_ms if self.flow.barge_in_possible else None
        segment = self._segmenter.process(speech, start_ms)
        if segment is Segment.SPEECH_START:
            await self._apply(self.flow.speech_started())
        elif self._recognising:
            self._batch.append(frame)
            self._utterance.append(frame)
        if self._recognising and len(self._batch) >= _ASR_BATCH_FRAMES:
            await self._accept_batch()
        if segment is Segment.SPEECH_END and self._recognising:
            await self._finish_recognition()
        if not self._segmenter.in_speech:
            await self._apply(self.flow.tick(FRAME_MS))

    async def _begin_recognition(self, grammar: tuple[str, ...] | None) -> None:
        self._recognising = True
        self._batch = list(self._preroll)
        self._utterance = list(self._preroll)
        self._last_partial = ""
        try:
            self._grammar_used = await self._stream.begin(grammar)
        except AsrError as err:
            await self._asr_failed(err)
            return
        await self._emit(EventType.STT_START, grammar=self._grammar_used)

    async def _accept_batch(self) -> None:
        pcm, self._batch = b"".join(self._batch), []
        try:
            partial = await self._stream.accept(pcm)
        except AsrError as err:
            await self._asr_failed(err)
            return
        if partial and partial != self._last_partial:
            self._last_partial = partial
            await self._emit(EventType.STT_PARTIAL, text=partial)

    async def _finish_recognition(self) -> None:
        try:
            if self._batch:
                await self._stream.accept(b"".join(self._batch))
                self._batch = []
            transcript = await self._stream.finish()
            if self._grammar_used and not transcript.text:
                # Nothing from the offered choices: decode the same audio without the grammar.
                await self._stream.begin(None)
                await self._stream.accept(b"".join(self._utterance))
                transcript = await self._stream.finish()
        except AsrError as err:
            await self._asr_failed(err)
            return
        finally:
            self._recognising = False
            self._utterance = []
        await self._emit(EventType.STT_END, **transcript.to_wire())
        await self._apply(self.flow.utterance(transcript.text, transcript.confidence))

    async def _asr_failed(self, err: AsrError) -> None:
        self._recognising = False
        self._batch, self._utterance = [], []
        log.error("voice.asr.failed", code=err.code)
        await self._emit(EventType.ERROR, code=err.code, stage="stt")
        await self._apply(self.flow.utterance(""))

    # -- commands -----------------------------------------------------------------------------
    async def _apply(self, commands: Sequence[Command]) -> None:
        for command in commands:
            if self.ended.is_set():
                return
            if isinstance(command, Say):
                await self._stop_playback(None)
                self._playback = asyncio.create_task(self._speak(command.text, command.kind))
            elif isinstance(command, StopPlayback):
                await self._stop_playback(command.reason)
            elif isinstance(command, Note):
                await self._emit(_NOTES.get(command.what, EventType.REPROMPT), **command.data)
            elif isinstance(command, Recognise):
                await self._begin_recognition(command.grammar)
            elif isinstance(command, Ask):
                self._spawn(self._ask(command.turn, command.text))
            elif isinstance(command, SendLinks):
                self._spawn(self._send_links(command))
            elif isinstance(command, QueueHandoff):
                self._spawn(self._queue_handoff(command), keep=True)
            elif isinstance(command, Transfer):
                await self._end(Route("transfer", command.target), "transfer")
            elif isinstance(command, Hangup):
                await self._end(Route("hangup"), command.reason)

    async def _end(self, route: Route, reason: str) -> None:
        self._runtime.routes.set(self.call_id, route)
        if route.action == "transfer":
            await self._emit(EventType.TRANSFER, target=route.target)
            await self._output.transfer(route)
        else:
            await self._output.hangup()
        await self.close(reason)

    async def _ask(self, turn: int, text: str) -> None:
        await self._emit(EventType.DIALOGUE_START, turn=turn, text=text)
        try:
            messages = await self._dialogue.send(self.call_id, text,
                                                 {"channel": "voice", "call_id": self.call_id})
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - stage boundary: any failure is one error event
            code = getattr(err, "code", "dialogue-unavailable")
            log.warning("voice.dialogue.failed", code=code, error=type(err).__name__)
            await self._emit(EventType.ERROR, code=code, stage="dialogue")
            await self._apply(self.flow.dialogue_failed(turn))
            return
        await self._emit(EventType.DIALOGUE_END, turn=turn,
                         messages=[m.to_api() for m in messages],
                         handoff=next((m.handoff.to_wire() for m in messages if m.handoff), None))
        await self._apply(self.flow.answer(turn, messages))

    async def _send_links(self, command: SendLinks) -> None:
        await self._emit(EventType.LINKS_REQUESTED, channel=command.channel.value,
                         links=list(command.links))
        try:
            ok = await self._links.send(self.call_id, command.channel, command.links)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failing gateway must not end the call
            log.exception("voice.links.failed")
            ok = False
        await self._apply(self.flow.links_sent(command.channel, ok))

    async def _queue_handoff(self, command: QueueHandoff) -> None:
        try:
            outcome = await self._handoff.enqueue(self.call_id, command.request,
                                                  command.transcript)
        except Exception as err:  # noqa: BLE001 - reported as one error event
            # The queue is down, but the PBX can still put the caller through to a person.
            log.error("voice.handoff.failed", error=type(err).__name__)
            await self._emit(EventType.ERROR, code="handoff-failed", stage="handoff")
            outcome = HandoffOutcome(transfer=True)
        else:
            log.info("voice.handoff.queued", reason=command.request.reason,
                     transfer=outcome.transfer)
            await self._emit(EventType.HANDOFF_QUEUED, reason=command.request.reason,
                             transfer=outcome.transfer)
        await self._apply(self.flow.handoff_result(command.turn, outcome.transfer,
                                                   outcome.messages))

    # -- audio out ----------------------------------------------------------------------------
    async def _stop_playback(self, reason: str | None) -> None:
        task, self._playback = self._playback, None
        if task is None or task.done() or task is asyncio.current_task():
            return
        task.cancel()
        await asyncio.wait([task])
        if reason is not None:
            await self._output.clear_audio()
            await self._emit(EventType.PLAYBACK_END, interrupted=True, reason=reason)

    async def _speak(self, text: str, kind: str) -> None:
        await self._emit(EventType.TTS_START, text=text, kind=kind)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=2)
        producer = asyncio.create_task(self._synthesise(sentences(text), queue))
        try:
            await self._play(queue)
        except (TtsError, ConnectionError) as err:
            code = err.code if isinstance(err, TtsError) else "playback-failed"
            log.error("voice.tts.failed", code=code)
            await self._emit(EventType.ERROR, code=code, stage="tts")
            # Nobody can hear the bot: a person takes the call.
            self._playback = None
            await self._end(Route("transfer", self._runtime.settings.transfer_target),
                            "tts-failed" if isinstance(err, TtsError) else "playback-failed")
            return
        finally:
            producer.cancel()
            await asyncio.wait([producer])
            if not producer.cancelled() and producer.exception() is not None:
                log.error("voice.tts.sentence_failed", code=getattr(producer.exception(), "code",
                                                                   "tts-failed"))
        await self._emit(EventType.PLAYBACK_END, interrupted=False)
        if self._playback is asyncio.current_task():
            self._playback = None
        await self._apply(self.flow.playback_finished())

    async def _synthesise(self, parts: list[str], queue: asyncio.Queue[bytes | None]) -> None:
        rate = self._output.format.rate
        try:
            for sentence in parts:
                speech = await self._runtime.tts.synthesize(sentence)
                await queue.put(resample_block(speech.pcm, speech.rate, rate))
        except TtsError:
            await queue.put(None)
            raise
        except Exception as err:
            await queue.put(None)
            raise TtsError("Sprachausgabe fehlgeschlagen") from err
        await queue.put(None)
        await self._emit(EventType.TTS_END, sentences=len(parts))

    async def _play(self, queue: asyncio.Queue[bytes | None]) -> None:
        loop = asyncio.get_running_loop()
        fmt = self._output.format
        frame_s = FRAME_MS / 1000
        framer = Framer(fmt.bytes_for_ms(FRAME_MS))
        start = loop.time()
        sent = 0
        producer_done = False
        while not producer_done:
            chunk = await queue.get()
            if chunk is None:
                producer_done = True
                frames = framer.flush()
                if sent == 0 and not frames:
                    # The producer stopped without audio: surface its error, if any.
                    raise TtsError("Sprachausgabe lieferte keine Audiodaten")
            else:
                frames = framer.push(chunk)
            # After waiting for synthesis, do not rush to catch up: the stream paused.
            start = max(start, loop.time() - sent * frame_s)
            for frame in frames:
                wait = frame_due_at(start, sent, frame_s, self._lead_frames) - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._output.send_audio(frame)
                if sent == 0:
                    await self._emit(EventType.PLAYBACK_START)
                sent += 1
        # Frames run ahead of the clock by the lead; wait until the caller has heard them.
        remaining = start + sent * frame_s - loop.time()
        if remaining > 0:
            await asyncio.sleep(remaining)

    @property
    def state(self) -> CallState:
        return self.flow.state
