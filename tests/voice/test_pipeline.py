"""Full voice turns through one session: recognised German text injected (no German model is
available here), real speech synthesis, a recording dialogue, staff queue and transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.messages import BotMessage, Button, HandoffRequest
from tests.voice.voice_helpers import (
    EventLog,
    RecordingDialogue,
    RecordingOutput,
    RecordingQueue,
    espeak,
    silence,
    voice_settings,
)
from voice.answer import LINK_ON_WEBSITE
from voice.asr import AsrModel
from voice.errors import TtsError
from voice.events import EventType
from voice.handoff import HandoffOutcome
from voice.pipeline import VoiceSession
from voice.runtime import VoiceRuntime, open_runtime
from voice.settings import Prompts
from voice.tts import CachedTts, Speech

SHORT = Prompts(greeting="Guten Tag.", reprompt="Sind Sie noch da?", goodbye="Auf Wiederhören.",
                transfer="Ich verbinde.")


@pytest.fixture
async def short_runtime(ko_model: AsrModel, ko_model_path: Path) -> AsyncIterator[VoiceRuntime]:
    async with open_runtime(voice_settings(ko_model_path, prompts=SHORT), ko_model) as rt:
        yield rt


class RecordingLinks:
    """A link sender that works (a city's SMS/e-mail gateway): records what it was asked."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, tuple[str, ...]]] = []

    async def send(self, call_id: str, channel, links) -> bool:
        self.sent.append((call_id, channel.value, tuple(links)))
        return True


async def started(runtime: VoiceRuntime, dialogue: RecordingDialogue,
                  queue: RecordingQueue | None = None,
                  links: RecordingLinks | None = None) -> tuple[VoiceSession, EventLog,
                                                                RecordingOutput]:
    events, output = EventLog(), RecordingOutput(16000)
    session = VoiceSession(runtime, call_id="call-1", input_rate=16000, output=output,
                           dialogue=dialogue, handoff=queue or RecordingQueue(), links=links,
                           on_event=events, transport="test")
    await session.start()
    await events.wait_for(EventType.PLAYBACK_END)
    return session, events, output


async def test_a_german_turn_is_answered_with_spoken_fees_and_dates(
        short_runtime: VoiceRuntime) -> None:
    dialogue = RecordingDialogue(default=[BotMessage(
        "Ein Reisepass kostet 70,00 € und ist ab dem 1.4.2026 teurer.")])
    session, events, output = await started(short_runtime, dialogue)
    greeting_frames = len(output.audio)
    assert greeting_frames > 10 and {len(f) for f in output.audio} == {640}  # 20 ms, 16 kHz
    await session.inject_utterance("Was kostet ein Reisepass?", 0.93)
    await events.wait_for(EventType.PLAYBACK_END, 2)
    assert dialogue.calls == [("call-1", "Was kostet ein Reisepass?",
                               {"channel": "voice", "call_id": "call-1"})]
    spoken = events.of(EventType.TTS_START)[1].data
    assert spoken == {"kind": "answer", "text": (
        "Ein Reisepass kostet siebzig Euro und ist ab dem ersten April "
        "zweitausendsechsundzwanzig teurer.")}
    assert len(output.audio) > greeting_frames + 50  # a few seconds of answer
    order = [e.type.value for e in events.events]
    assert order == ["call-start", "tts-start", "tts-end", "playback-start", "playback-end",
                     "stt-end", "dialogue-start", "dialogue-end", "tts-start", "tts-end",
                     "playback-start", "playback-end"]
    await session.close("test")
    end = await events.wait_for(EventType.CALL_END)
    assert end.data["transcript"][1] == {"role": "caller", "text": "Was kostet ein Reisepass?",
                                         "confidence": 0.93}


DOCUMENT_DIALOGUE = {
    "Ich brauche ein Dokument": [BotMessage("Welches?", buttons=(
        Button("Reisepass", "/pass"), Button("Personalausweis", "/ausweis")))],
    "/ausweis": [BotMessage("Den Antrag gibt es unter https://stadt.example/ausweis.")],
}


async def test_spoken_choice_and_link_offer_then_sms_reply(short_runtime: VoiceRuntime) -> None:
    dialogue = RecordingDialogue(answers=DOCUMENT_DIALOGUE)
    links = RecordingLinks()
    session, events, _ = await started(short_runtime, dialogue, links=links)
    await session.inject_utterance("Ich brauche ein Dokument")
    await events.wait_for(EventType.PLAYBACK_END, 2)
    await session.inject_utterance("den Personalausweis bitte")
    await events.wait_for(EventType.PLAYBACK_END, 3)
    assert [c[1] for c in dialogue.calls] == ["Ich brauche ein Dokument", "/ausweis"]
    assert "per SMS oder per E-Mail" in events.of(EventType.TTS_START)[2].data["text"]
    await session.inject_utterance("Per SMS bitte")
    requested = await events.wait_for(EventType.LINKS_REQUESTED)
    assert requested.data == {"channel": "sms", "links": ["https://stadt.example/ausweis"]}
    await events.wait_for(EventType.PLAYBACK_END, 4)
    assert links.sent == [("call-1", "sms", ("https://stadt.example/ausweis",))]
    assert events.of(EventType.TTS_START)[3].data["text"] == Prompts().links_sent_sms
    await session.close("test")


async def test_without_a_link_sender_links_are_not_offered(short_runtime: VoiceRuntime) -> None:
    dialogue = RecordingDialogue(answers=DOCUMENT_DIALOGUE)
    session, events, _ = await started(short_runtime, dialogue)
    await session.inject_utterance("Ich brauche ein Dokument")
    await events.wait_for(EventType.PLAYBACK_END, 2)
    await session.inject_utterance("den Personalausweis bitte")
    await events.wait_for(EventType.PLAYBACK_END, 3)
    spoken = events.of(EventType.TTS_START)[2].data["text"]
    assert "SMS" not in spoken and spoken.endswith(LINK_ON_WEBSITE)
    await session.inject_utterance("Per SMS bitte")  # no offer open: a normal question
    await events.wait_for(EventType.PLAYBACK_END, 4)
    assert not events.of(EventType.LINKS_REQUESTED)
    assert dialogue.calls[-1][1] == "Per SMS bitte"
    await session.close("test")


async def test_handoff_from_the_dialogue_queues_the_transcript_and_transfers(
        short_runtime: VoiceRuntime) -> None:
    request = HandoffRequest("complaint", "Beschwerde über die Wartezeit", ("s1",))
    dialogue = RecordingDialogue(default=[BotMessage("Das tut mir leid.", handoff=request)])
    queue = RecordingQueue()
    session, events, output = await started(short_runtime, dialogue, queue)
    await session.inject_utterance("Ich möchte mich beschweren")
    await session.ended.wait()
    [(call_id, queued, transcript)] = queue.items
    assert (call_id, queued) == ("call-1", request)
    assert [(t.role, t.text) for t in transcript] == [
        ("bot", "Guten Tag."), ("caller", "Ich möchte mich beschweren"),
        ("bot", "Das tut mir leid.")]
    spoken = events.of(EventType.TTS_START)[-1].data
    assert spoken == {"kind": "transfer", "text": "Das tut mir leid. Ich verbinde."}
    assert output.route is not None and output.route.to_wire() == {"action": "transfer",
                                                                   "target": "staff"}
    assert short_runtime.routes.get("call-1") == output.route
    assert session.end_reason == "transfer"


async def test_outside_service_hours_the_call_is_not_transferred(
        short_runtime: VoiceRuntime) -> None:
    offer = BotMessage("Gerade ist niemand im Dienst. Wir rufen Sie gern zurück.")
    queue = RecordingQueue(HandoffOutcome(transfer=False, messages=(offer,)))
    session, events, output = await started(short_runtime, RecordingDialogue(), queue)
    await session.feed_dtmf("0")
    queued = await events.wait_for(EventType.HANDOFF_QUEUED)
    assert queued.data == {"reason": "explicit_request", "transfer": False}
    await events.wait_for(EventType.PLAYBACK_END, 2)
    assert events.of(EventType.TTS_START)[-1].data == {"kind": "handoff-declined",
                                                       "text": offer.text}
    assert not session.ended.is_set() and output.route is None
    await session.close("test")


async def test_dialogue_failure_is_one_error_event_and_an_apology(
        short_runtime: VoiceRuntime) -> None:
    session, events, _ = await started(short_runtime, RecordingDialogue(fail=True))
    await session.inject_utterance("Hallo")
    error = await events.wait_for(EventType.ERROR)
    assert error.data == {"code": "dialogue-unavailable", "stage": "dialogue"}
    await events.wait_for(EventType.PLAYBACK_END, 2)
    assert events.of(EventType.TTS_START)[1].data["kind"] == "technical-problem"
    await session.close("test")


async def test_recognised_speech_reaches_the_dialogue(short_runtime: VoiceRuntime) -> None:
    """Real audio through VAD and Vosk (Korean model): the recognised text is what is asked."""
    dialogue = RecordingDialogue()
    session, events, _ = await started(short_runtime, dialogue)
    await session.feed_audio(silence(400, 16000) + espeak("여권을 신청하고 싶습니다", "ko", 16000)
                             + silence(800, 16000))
    heard = await events.wait_for(EventType.STT_END)
    await dialogue.called.wait()
    assert dialogue.calls[0][1] == heard.data["text"] != ""
    assert events.of(EventType.STT_START)
    await session.close("test")


async def test_speech_that_fails_to_synthesise_goes_to_a_person(
        ko_model: AsrModel, ko_model_path: Path) -> None:
    class Broken:
        name = "broken"

        async def synthesize(self, text: str) -> Speech:
            raise TtsError("kaputt")

        async def close(self) -> None:
            return None

    async with open_runtime(voice_settings(ko_model_path, prompts=SHORT), ko_model) as rt:
        rt.tts = CachedTts(Broken())
        events, output = EventLog(), RecordingOutput()
        session = VoiceSession(rt, call_id="c", input_rate=8000, output=output,
                               dialogue=RecordingDialogue(), handoff=RecordingQueue(),
                               on_event=events)
        await session.start()
        await asyncio.wait_for(session.ended.wait(), 10)
    assert (await events.wait_for(EventType.ERROR)).data == {"code": "tts-failed",
                                                            "stage": "tts"}
    assert output.route is not None and output.route.action == "transfer"


async def test_staff_takes_over_a_running_call(short_runtime: VoiceRuntime) -> None:
    session, events, output = await started(short_runtime, RecordingDialogue())
    assert "call-1" in short_runtime.active
    assert await short_runtime.active.transfer("call-1", "staff:anna")
    await session.ended.wait()
    assert (await events.wait_for(EventType.TRANSFER)).data == {"target": "staff:anna"}
    assert output.route is not None and output.route.to_text() == "transfer staff:anna"
    assert "call-1" not in short_runtime.active
    assert not await short_runtime.active.transfer("call-1", "staff:anna")
