"""What a call does next, as a pure state machine: inputs in, commands out (no I/O, no clock).

    speaking ──playback done──▶ listening ──speech──▶ hearing ──utterance──▶ thinking
       ▲  │                        │                                          │
       │  └──speech (barge-in)──▶ hearing                    answer ──────────┘
       └──────────────────────────────────────────────────────┘
    answer with handoff / key 0 ──▶ handing-off ──queued──▶ transferring ──▶ ended (Transfer)
                                         └──not now (e.g. a callback offer)──▶ speaking
    listening, silence × (max_reprompts+1) ──▶ ending ──playback done──▶ ended (Hangup)

Time is call audio: the shell calls :meth:`CallFlow.tick` with the length of every frame the
caller sent that held no speech, so silence handling is exact and testable without a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.messages import BotMessage, HandoffRequest
from voice.answer import Choice, LinkChannel, link_channel, match_choice, shape_answer
from voice.settings import Prompts


class CallState(StrEnum):
    SPEAKING = "speaking"  # the bot talks; the caller may barge in
    LISTENING = "listening"  # waiting for the caller
    HEARING = "hearing"  # the caller talks; recognition runs
    THINKING = "thinking"  # waiting for the dialogue engine
    HANDING_OFF = "handing-off"  # the staff queue decides: transfer now, or not (no barge-in)
    TRANSFERRING = "transferring"  # last words before the transfer (no barge-in)
    ENDING = "ending"  # goodbye (no barge-in)
    ENDED = "ended"


class IllegalCallTransition(Exception):
    code = "voice-illegal-transition"


_ALLOWED: dict[CallState, frozenset[CallState]] = {
    CallState.SPEAKING: frozenset({CallState.LISTENING, CallState.HEARING, CallState.SPEAKING,
                                   CallState.THINKING, CallState.HANDING_OFF,
                                   CallState.TRANSFERRING, CallState.ENDED}),
    CallState.LISTENING: frozenset({CallState.HEARING, CallState.SPEAKING, CallState.THINKING,
                                    CallState.HANDING_OFF, CallState.TRANSFERRING,
                                    CallState.ENDING, CallState.ENDED}),
    CallState.HEARING: frozenset({CallState.THINKING, CallState.SPEAKING, CallState.LISTENING,
                                  CallState.HANDING_OFF, CallState.TRANSFERRING, CallState.ENDED}),
    CallState.THINKING: frozenset({CallState.SPEAKING, CallState.HEARING, CallState.THINKING,
                                   CallState.HANDING_OFF, CallState.TRANSFERRING,
                                   CallState.ENDED}),
    CallState.HANDING_OFF: frozenset({CallState.TRANSFERRING, CallState.SPEAKING,
                                      CallState.ENDED}),
    CallState.TRANSFERRING: frozenset({CallState.ENDED}),
    CallState.ENDING: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


# -- commands for the shell ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Say:
    text: str
    kind: str  # greeting, answer, reprompt, goodbye, transfer, ...


@dataclass(frozen=True, slots=True)
class StopPlayback:
    reason: str  # barge-in, dtmf


@dataclass(frozen=True, slots=True)
class Recognise:
    """Start recognising the utterance that just began (grammar: phrases to prefer, or None)."""

    grammar: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Ask:
    turn: int
    text: str


@dataclass(frozen=True, slots=True)
class SendLinks:
    channel: LinkChannel
    links: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QueueHandoff:
    turn: int
    request: HandoffRequest
    transcript: tuple[TranscriptLine, ...]


@dataclass(frozen=True, slots=True)
class Transfer:
    target: str


@dataclass(frozen=True, slots=True)
class Hangup:
    reason: str


@dataclass(frozen=True, slots=True)
class Note:
    """Something worth an event that is not a stage: barge-in, reprompt, dtmf."""

    what: str
    data: dict[str, object] = field(default_factory=dict)


Command = Say | StopPlayback | Recognise | Ask | SendLinks | QueueHandoff | Transfer | Hangup | Note


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    role: str  # caller, bot
    text: str
    confidence: float | None = None

    def to_wire(self) -> dict[str, object]:
        return {"role": self.role, "text": self.text, "confidence": self.confidence}


@dataclass(frozen=True, slots=True)
class FlowConfig:
    reprompt_after_ms: int = 8000
    max_reprompts: int = 1
    dtmf_timeout_ms: int = 3000
    transfer_target: str = "staff"
    phrase_hints: tuple[str, ...] = ()
    use_grammar: bool = True
    offer_links: bool = True  # False: no SMS/e-mail sender, so links are not offered


_CONTROL_PHRASES = ("ja", "nein", "sms", "e mail", "mitarbeiter", "mensch", "wiederholen")


class CallFlow:
    def __init__(self, config: FlowConfig, prompts: Prompts) -> None:
        self.config = config
        self.prompts = prompts
        self.state = CallState.SPEAKING
        self.turn = 0
        self.transcript: list[TranscriptLine] = []
        self.choices: tuple[Choice, ...] = ()
        self.links: tuple[str, ...] = ()
        self.expects_number = False
        self._silence_ms = 0
        self._reprompts = 0
        self._digits = ""
        self._digit_idle_ms = 0
        self._target = config.transfer_target
        self._before_transfer = ""

    # -- helpers ----------------------------------------------------------------------------
    def _move(self, target: CallState) -> None:
        if target is not self.state and target not in _ALLOWED[self.state]:
            raise IllegalCallTransition(f"{self.state} → {target}")
        self.state = target

    def _say(self, text: str, kind: str, state: CallState = CallState.SPEAKING) -> list[Command]:
        self._move(state)
        self.transcript.append(TranscriptLine("bot", text))
        return [Say(text, kind)]

    def _ask(self, text: str, shown: str | None = None,
             confidence: float | None = None) -> list[Command]:
        self.transcript.append(TranscriptLine("caller", shown or text, confidence))
        self.turn += 1
        self.choices, self.links, self.expects_number = (), (), False
        self._move(CallState.THINKING)
        return [Ask(self.turn, text)]

    def _handoff(self, request: HandoffRequest, spoken: str = "") -> list[Command]:
        """Ask the staff queue; what the bot says waits for its outcome."""
        self.turn += 1
        self._before_transfer = spoken
        if spoken:
            self.transcript.append(TranscriptLine("bot", spoken))
        self._move(CallState.HANDING_OFF)
        return [QueueHandoff(self.turn, request, tuple(self.transcript))]

    def handoff_result(self, turn: int, transfer: bool,
                       messages: Sequence[BotMessage] = ()) -> list[Command]:
        """The queue's outcome: ``transfer`` (someone will take the call), or not now, with
        the reply to speak instead (outside service hours: a callback offer, ...)."""
        if turn != self.turn or self.state is not CallState.HANDING_OFF:
            return []
        spoken, self._before_transfer = self._before_transfer, ""
        if transfer:
            # The voice line's own notice: the gateway's queue texts are written for the chat.
            self._move(CallState.TRANSFERRING)
            self.transcript.append(TranscriptLine("bot", self.prompts.transfer))
            return [Say(f"{spoken} {self.prompts.transfer}".strip(), "transfer")]
        shaped = shape_answer(messages, offer_links=self.config.offer_links)
        reply = shaped.text or self.prompts.no_answer
        self._move(CallState.SPEAKING)
        self.transcript.append(TranscriptLine("bot", reply))
        self.choices, self.links = shaped.choices, shaped.links
        self.expects_number = shaped.expects_number
        return [Say(f"{spoken} {reply}".strip(), "handoff-declined")]

    @property
    def accepts_speech(self) -> bool:
        return self.state in (CallState.SPEAKING, CallState.LISTENING, CallState.THINKING)

    @property
    def barge_in_possible(self) -> bool:
        return self.state in (CallState.SPEAKING, CallState.THINKING)

    # -- inputs -----------------------------------------------------------------------------
    def start(self) -> list[Command]:
        self.transcript.append(TranscriptLine("bot", self.prompts.greeting))
        return [Say(self.prompts.greeting, "greeting")]

    def speech_started(self) -> list[Command]:
        if not self.accepts_speech:
            return []
        commands: list[Command] = []
        if self.state is CallState.SPEAKING:
            commands += [StopPlayback("barge-in"), Note("barge-in")]
        elif self.state is CallState.THINKING:
            self.turn += 1  # the pending answer is stale: the caller went on talking
            commands.append(Note("barge-in", {"during": "thinking"}))
        self._move(CallState.HEARING)
        self._silence_ms = 0
        grammar = None
        if self.choices and self.config.use_grammar:
            phrases = [c.title for c in self.choices] + list(self.config.phrase_hints)
            grammar = tuple(dict.fromkeys(phrases + list(_CONTROL_PHRASES)))
        return commands + [Recognise(grammar)]

    def utterance(self, text: str, confidence: float | None = None) -> list[Command]:
        if self.state is not CallState.HEARING:
            return []
        text = text.strip()
        if not text:
            return self._say(self.prompts.not_understood, "not-understood")
        self._reprompts = 0
        if self.links and (channel := link_channel(text)) is not None:
            self.transcript.append(TranscriptLine("caller", text, confidence))
            links, self.links = self.links, ()
            self._move(CallState.THINKING)
            return [SendLinks(channel, links)]
        if self.choices and (choice := match_choice(text, self.choices)) is not None:
            return self._ask(choice.payload, shown=text, confidence=confidence)
        return self._ask(text, confidence=confidence)

    def links_sent(self, channel: LinkChannel, ok: bool) -> list[Command]:
        if self.state is not CallState.THINKING:
            return []
        if not ok:
            return self._say(self.prompts.links_unavailable, "links")
        text = (self.prompts.links_sent_sms if channel is LinkChannel.SMS
                else self.prompts.links_sent_email)
        return self._say(text, "links")

    def answer(self, turn: int, messages: Sequence[BotMessage]) -> list[Command]:
        if turn != self.turn or self.state is not CallState.THINKING:
            return []  # stale: the caller barged in, hung up, or pressed a key meanwhile
        shaped = shape_answer(messages, offer_links=self.config.offer_links)
        if shaped.handoff is not None:
            return self._handoff(shaped.handoff, shaped.text)
        if not shaped.text:
            return self._say(self.prompts.no_answer, "no-answer")
        commands = self._say(shaped.text, "answer")
        self.choices, self.links = shaped.choices, shaped.links
        self.expects_number = shaped.expects_number
        return commands

    def dialogue_failed(self, turn: int) -> list[Command]:
        if turn != self.turn or self.state is not CallState.THINKING:
            return []
        return self._say(self.prompts.technical_problem, "technical-problem")

    def playback_finished(self) -> list[Command]:
        if self.state is CallState.SPEAKING:
            self._move(CallState.LISTENING)
            self._silence_ms = 0
            return []
        if self.state is CallState.TRANSFERRING:
            self._move(CallState.ENDED)
            return [Transfer(self._target)]
        if self.state is CallState.ENDING:
            self._move(CallState.ENDED)
            return [Hangup("no-input")]
        return []

    def dtmf(self, digit: str) -> list[Command]:
        if self.state in (CallState.HANDING_OFF, CallState.TRANSFERRING, CallState.ENDING,
                          CallState.ENDED):
            return []
        commands: list[Command] = [Note("dtmf", {"digit": digit})]
        if self.state is CallState.SPEAKING:
            commands.append(StopPlayback("dtmf"))
            self._move(CallState.LISTENING)
        self._silence_ms = 0
        self._digit_idle_ms = 0
        if digit == "0" and not self._digits and not self.expects_number:
            self.transcript.append(TranscriptLine("caller", "[Taste 0: Mitarbeiter]"))
            request = HandoffRequest("explicit_request", "Anrufer hat die Taste 0 gedrückt")
            return commands + self._handoff(request)
        if self.state is CallState.THINKING:
            return commands  # a turn is running; keys other than 0 wait for its answer
        if digit == "*":
            self._digits = ""
            return commands
        if digit == "#":
            digits, self._digits = self._digits, ""
            return commands + (self._ask(digits, shown=f"[Tasten {digits}]") if digits else [])
        if (self.choices and not self._digits
                and (choice := next((c for c in self.choices if c.digit == digit), None))):
            return commands + self._ask(choice.payload, shown=f"[Taste {digit}: {choice.title}]")
        if digit.isdigit():
            self._digits += digit
        return commands

    def tick(self, ms: int) -> list[Command]:
        """``ms`` of caller audio without speech went by."""
        if self.state is not CallState.LISTENING:
            return []
        if self._digits:
            self._digit_idle_ms += ms
            if self._digit_idle_ms >= self.config.dtmf_timeout_ms:
                digits, self._digits = self._digits, ""
                return self._ask(digits, shown=f"[Tasten {digits}]")
            return []
        self._silence_ms += ms
        if self._silence_ms < self.config.reprompt_after_ms:
            return []
        self._silence_ms = 0
        if self._reprompts < self.config.max_reprompts:
            self._reprompts += 1
            return [Note("reprompt", {"count": self._reprompts}),
                    *self._say(self.prompts.reprompt, "reprompt")]
        return self._say(self.prompts.goodbye, "goodbye", CallState.ENDING)

    def staff_takeover(self, target: str) -> list[Command]:
        """A staff member took the call in the console: tell the caller, then transfer."""
        if self.state in (CallState.TRANSFERRING, CallState.ENDING, CallState.ENDED):
            return []
        self.turn += 1  # a pending answer or queue outcome no longer matters
        self._target = target
        commands: list[Command] = (
            [StopPlayback("takeover")] if self.state is CallState.SPEAKING else [])
        return commands + self._say(self.prompts.transfer, "transfer", CallState.TRANSFERRING)

    def hangup(self) -> list[Command]:
        self.turn += 1
        self.state = CallState.ENDED
        return []
