"""The call flow as a pure state machine: inputs in, commands out, time as call audio."""

from __future__ import annotations

import pytest

from bot.messages import BotMessage, Button, HandoffRequest
from voice.answer import LinkChannel
from voice.call import (
    Ask,
    CallFlow,
    CallState,
    FlowConfig,
    Hangup,
    IllegalCallTransition,
    Note,
    QueueHandoff,
    Recognise,
    Say,
    SendLinks,
    StopPlayback,
    Transfer,
)
from voice.settings import Prompts

PROMPTS = Prompts()


def listening(**config: object) -> CallFlow:
    flow = CallFlow(FlowConfig(**config), PROMPTS)  # type: ignore[arg-type]
    assert flow.start() == [Say(PROMPTS.greeting, "greeting")]
    assert flow.playback_finished() == []
    assert flow.state is CallState.LISTENING
    return flow


def ask(flow: CallFlow, text: str) -> Ask:
    if flow.state is not CallState.HEARING:
        assert flow.speech_started()[-1] == Recognise(None)
    [command] = flow.utterance(text)
    assert isinstance(command, Ask)
    return command


def test_a_turn_goes_listen_hear_think_speak() -> None:
    flow = listening()
    assert flow.speech_started() == [Recognise(None)]
    assert flow.state is CallState.HEARING
    [command] = flow.utterance("Ich brauche einen Reisepass", 0.9)
    assert command == Ask(1, "Ich brauche einen Reisepass")
    assert flow.state is CallState.THINKING
    [say] = flow.answer(1, [BotMessage("Das kostet 70 €.")])
    assert say == Say("Das kostet siebzig Euro.", "answer")
    assert flow.state is CallState.SPEAKING
    assert [(t.role, t.text) for t in flow.transcript] == [
        ("bot", PROMPTS.greeting), ("caller", "Ich brauche einen Reisepass"),
        ("bot", "Das kostet siebzig Euro.")]
    assert flow.transcript[1].confidence == 0.9


def test_barge_in_while_speaking_stops_playback() -> None:
    flow = CallFlow(FlowConfig(), PROMPTS)
    flow.start()
    assert flow.barge_in_possible
    assert flow.speech_started() == [StopPlayback("barge-in"), Note("barge-in"), Recognise(None)]
    assert flow.state is CallState.HEARING


def test_speech_while_thinking_makes_the_pending_answer_stale() -> None:
    flow = listening()
    first = ask(flow, "Reisepass")
    commands = flow.speech_started()
    assert Note("barge-in", {"during": "thinking"}) in commands
    assert flow.answer(first.turn, [BotMessage("alt")]) == []
    second = ask(flow, "Nein, Personalausweis")
    assert flow.answer(second.turn, [BotMessage("neu")]) == [Say("neu", "answer")]


def test_choices_use_a_grammar_and_a_named_choice_sends_its_payload() -> None:
    flow = listening(phrase_hints=("Meldebescheinigung",))
    ask(flow, "Ausweis")
    flow.answer(1, [BotMessage("Welches?", buttons=(Button("Reisepass", "/pass"),
                                                    Button("Personalausweis", "/ausweis")))])
    flow.playback_finished()
    [recognise] = flow.speech_started()
    assert isinstance(recognise, Recognise) and recognise.grammar is not None
    assert recognise.grammar[:3] == ("Reisepass", "Personalausweis", "Meldebescheinigung")
    assert flow.utterance("den Personalausweis") == [Ask(2, "/ausweis")]
    assert flow.transcript[-1].text == "den Personalausweis"


def test_a_choice_digit_on_the_keypad() -> None:
    flow = listening()
    ask(flow, "Ausweis")
    flow.answer(1, [BotMessage("Welches?", buttons=(Button("Reisepass", "/pass"),
                                                    Button("Personalausweis", "/ausweis")))])
    commands = flow.dtmf("2")  # while the question is still being read: stops it
    assert commands == [Note("dtmf", {"digit": "2"}), StopPlayback("dtmf"), Ask(2, "/ausweis")]
    assert flow.transcript[-1].text == "[Taste 2: Personalausweis]"


def test_zero_asks_for_a_person_unless_a_number_is_expected() -> None:
    flow = listening()
    commands = flow.dtmf("0")
    assert isinstance(commands[1], QueueHandoff)
    assert commands[1].request == HandoffRequest("explicit_request",
                                                 "Anrufer hat die Taste 0 gedrückt")
    assert [line.role for line in commands[1].transcript] == ["bot", "caller"]
    assert flow.state is CallState.HANDING_OFF
    assert flow.speech_started() == [] and flow.dtmf("5") == []  # the queue decides first
    assert flow.handoff_result(commands[1].turn, True) == [Say(PROMPTS.transfer, "transfer")]
    assert flow.state is CallState.TRANSFERRING
    assert flow.speech_started() == []  # no barge-in into the transfer notice
    assert flow.playback_finished() == [Transfer("staff")]
    assert flow.state is CallState.ENDED
    assert [line.role for line in flow.transcript] == ["bot", "caller", "bot"]


def test_when_nobody_can_take_the_call_the_bot_says_so_and_goes_on() -> None:
    flow = listening()
    [_, queue] = flow.dtmf("0")
    assert isinstance(queue, QueueHandoff)
    offer = BotMessage("Gerade ist niemand erreichbar. Möchten Sie einen Rückruf?",
                       buttons=(Button("Ja, Rückruf", "/callback"),
                                Button("Nein", "/deny")))
    [say] = flow.handoff_result(queue.turn, False, [offer])
    assert isinstance(say, Say) and say.kind == "handoff-declined"
    assert say.text.startswith("Gerade ist niemand erreichbar.")
    assert flow.state is CallState.SPEAKING
    assert [c.payload for c in flow.choices] == ["/callback", "/deny"]
    flow.playback_finished()
    assert flow.dtmf("1")[-1] == Ask(queue.turn + 1, "/callback")


def test_digits_answer_a_number_question_with_hash_or_timeout() -> None:
    flow = listening(dtmf_timeout_ms=1000)
    ask(flow, "Ich bin umgezogen")
    flow.answer(1, [BotMessage("Wie lautet Ihre neue Postleitzahl?")])
    flow.playback_finished()
    for digit in "8033":
        flow.dtmf(digit)
    flow.dtmf("*")  # start again
    for digit in "0331":
        flow.dtmf(digit)
    assert flow.dtmf("#")[-1] == Ask(2, "0331")
    flow.answer(2, [BotMessage("Und die Hausnummer?")])
    flow.playback_finished()
    flow.dtmf("1")
    flow.dtmf("2")
    assert flow.tick(980) == []
    assert flow.tick(20) == [Ask(3, "12")]
    assert flow.transcript[-1].text == "[Tasten 12]"


def test_silence_reprompts_then_says_goodbye_and_hangs_up() -> None:
    flow = listening(reprompt_after_ms=3000, max_reprompts=1)
    assert flow.tick(2980) == []
    assert flow.tick(20) == [Note("reprompt", {"count": 1}), Say(PROMPTS.reprompt, "reprompt")]
    assert flow.tick(5000) == []  # speaking: silence does not count
    flow.playback_finished()
    assert flow.tick(3000) == [Say(PROMPTS.goodbye, "goodbye")]
    assert flow.state is CallState.ENDING
    assert flow.speech_started() == []
    assert flow.playback_finished() == [Hangup("no-input")]


def test_speech_resets_the_silence_count() -> None:
    flow = listening(reprompt_after_ms=3000, max_reprompts=1)
    flow.tick(2000)
    ask(flow, "Hallo")
    flow.answer(1, [BotMessage("Hallo!")])
    flow.playback_finished()
    assert flow.tick(2000) == []


def test_handoff_from_the_dialogue_transfers_after_speaking() -> None:
    flow = listening()
    ask(flow, "Ich will mich beschweren")
    request = HandoffRequest("complaint", "Beschwerde über Wartezeit")
    [queue] = flow.answer(1, [BotMessage("Das tut mir leid.", handoff=request)])
    assert isinstance(queue, QueueHandoff) and queue.request == request
    assert queue.transcript[-1].text == "Das tut mir leid."
    assert flow.handoff_result(queue.turn - 1, True) == []  # stale outcomes are ignored
    assert flow.handoff_result(queue.turn, True) == [
        Say(f"Das tut mir leid. {PROMPTS.transfer}", "transfer")]
    assert flow.playback_finished() == [Transfer("staff")]


def test_empty_recognition_silent_bot_and_failures_have_prompts() -> None:
    flow = listening()
    flow.speech_started()
    assert flow.utterance("  ") == [Say(PROMPTS.not_understood, "not-understood")]
    flow.playback_finished()
    ask(flow, "Hallo")
    assert flow.answer(1, []) == [Say(PROMPTS.no_answer, "no-answer")]
    flow.playback_finished()
    ask(flow, "Hallo")
    assert flow.dialogue_failed(2) == [Say(PROMPTS.technical_problem, "technical-problem")]


def test_link_offer_reply_sends_links() -> None:
    flow = listening()
    ask(flow, "Antrag")
    flow.answer(1, [BotMessage("Das Formular: https://stadt.example/f")])
    flow.playback_finished()
    flow.speech_started()
    assert flow.utterance("per SMS bitte") == [SendLinks(LinkChannel.SMS,
                                                         ("https://stadt.example/f",))]
    assert flow.links_sent(LinkChannel.SMS, False) == [Say(PROMPTS.links_unavailable, "links")]


def test_illegal_transitions_raise() -> None:
    flow = listening()
    flow.hangup()
    with pytest.raises(IllegalCallTransition):
        flow._move(CallState.SPEAKING)


def test_staff_takeover_interrupts_and_transfers_to_that_person() -> None:
    flow = listening()
    ask(flow, "Ich habe eine Frage zu meinem Antrag")
    flow.answer(1, [BotMessage("Gern, einen Moment.")])  # speaking
    commands = flow.staff_takeover("staff:anna")
    assert commands == [StopPlayback("takeover"), Say(PROMPTS.transfer, "transfer")]
    assert flow.speech_started() == []
    assert flow.playback_finished() == [Transfer("staff:anna")]
    assert flow.staff_takeover("staff:ben") == []
