"""The chat service with the handoff gate: bot silent while a person owns the conversation,
callback form when nobody can take over, the bot back after hand-back, rating.

The dialogue engine is a recording fake (the transport seam); the database is real."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.gateway.chat import ChatService
from bot.handoff.callback import CONSENT, YES
from bot.handoff.config import HandoffConfig
from bot.handoff.events import MessageAdded
from bot.handoff.gate import HandoffGate
from bot.handoff.hours import ServiceHours
from bot.handoff.service import HandoffService
from bot.handoff.state import HandoffStatus
from bot.messages import BotMessage, HandoffRequest
from bot.store import Store
from tests.handoff.fixtures import AGENT_A, FakeClock, always_open, make_service

# A Wednesday, 10:00 in Berlin (08:00 UTC in summer).
WEDNESDAY_10 = dt.datetime(2026, 6, 10, 8, 0, tzinfo=dt.UTC)
WEDNESDAY_22 = dt.datetime(2026, 6, 10, 20, 0, tzinfo=dt.UTC)


class FakeDialogue:
    """Answers like the bot: asks for a person on "Mensch", else a plain answer."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, conversation_id: str, text: str,
                   metadata: dict[str, Any] | None = None) -> list[BotMessage]:
        self.sent.append((conversation_id, text))
        if "mensch" in text.lower():
            return [BotMessage("Ich verbinde Sie mit dem Service-Team.",
                               handoff=HandoffRequest("explicit_request", "Will einen Menschen",
                                                      ("ummeldung",), "fees"))]
        return [BotMessage(f"Antwort auf: {text}")]


def _chat(store: Store, service: HandoffService) -> tuple[ChatService, FakeDialogue]:
    dialogue = FakeDialogue()
    chat = ChatService(store, dialogue)  # type: ignore[arg-type]
    chat.attach_handoff(HandoffGate(service))
    return chat, dialogue


async def _status(store: Store, cid: str) -> HandoffStatus:
    state = await store.conversation(cid)
    assert state is not None
    return state.handoff_status


async def test_whole_turn_cycle_with_a_person(store: Store) -> None:
    service = make_service(store)
    chat, dialogue = _chat(store, service)
    result = await chat.turn("c", "Ich will einen Menschen")
    assert result.handoff is not None and result.handoff["status"] == "queued"
    notice = result.messages[-1].text
    assert "Platz 1" in notice and "Minute" in notice
    # While waiting the bot is silent, and staff see the message live.
    async with service.hub.subscribe() as events:
        silent = await chat.turn("c", "Hallo? Ist da jemand?")
        event = events.get_nowait()
    assert silent.messages == () and len(dialogue.sent) == 1
    assert isinstance(event, MessageAdded) and event.message["text"] == "Hallo? Ist da jemand?"
    await service.claim("c", AGENT_A)
    await service.post("c", AGENT_A, "Guten Tag, ich helfe Ihnen.")
    assert (await chat.turn("c", "Danke!")).messages == ()
    assert len(dialogue.sent) == 1
    await service.release("c", AGENT_A, "bot")
    # The rating button goes to the handoff part, not to the dialogue engine.
    thanks = await chat.turn("c", '/handoff_rating{"score": 5}')
    assert thanks.messages[0].text == "Vielen Dank für Ihre Bewertung!"
    assert len(dialogue.sent) == 1
    answer = await chat.turn("c", "Was kostet ein Ausweis?")
    assert answer.messages[0].text == "Antwort auf: Was kostet ein Ausweis?"
    assert await _status(store, "c") is HandoffStatus.BOT


async def test_a_typed_digit_after_the_rating_prompt_counts(store: Store) -> None:
    service = make_service(store)
    chat, _dialogue = _chat(store, service)
    await chat.turn("d", "Mensch bitte")
    await service.claim("d", AGENT_A)
    await service.close("d", AGENT_A, "resolved")
    assert (await chat.turn("d", "4")).messages[0].text.startswith("Vielen Dank")
    # Later a digit is an ordinary message for the bot.
    assert (await chat.turn("d", "4")).messages[0].text == "Antwort auf: 4"


async def test_out_of_hours_offers_a_callback_and_files_a_ticket(store: Store) -> None:
    clock = FakeClock(WEDNESDAY_22)
    config = HandoffConfig(hours=ServiceHours.parse("mo-fr 08:00-18:00"))
    service = make_service(store, config=config, clock=clock)
    chat, dialogue = _chat(store, service)
    offer = await chat.turn("n", "Ich will einen Menschen")
    text = offer.messages[-1].text
    assert "nicht erreichbar" in text and "Mo–Fr 08:00–18:00 Uhr" in text
    assert "wieder ab Do, 11.06. 08:00 Uhr" in text
    assert not any("verbinde" in m.text for m in offer.messages)
    assert [b.payload for b in offer.messages[-1].buttons] == [YES, "/callback_no"]
    assert await _status(store, "n") is HandoffStatus.BOT
    assert (await chat.turn("n", YES)).messages[0].text == "Gerne. Wie ist Ihr Name?"
    await chat.turn("n", "Erika Mustermann")
    retry = await chat.turn("n", "weiß ich nicht")
    assert "nicht als Telefonnummer" in retry.messages[0].text
    confirm = await chat.turn("n", "0151 2345678 oder erika@example.de")
    assert "Telefon 0151 2345678" in confirm.messages[0].text
    assert "E-Mail erika@example.de" in confirm.messages[0].text
    assert "Ich willige ein" in confirm.messages[0].text
    filed = await chat.turn("n", CONSENT)
    assert "Nummer 1" in filed.messages[0].text and "Do, 11.06. 22:00 Uhr" in filed.messages[0].text
    assert len(dialogue.sent) == 1  # the form never reached the dialogue engine
    assert await _status(store, "n") is HandoffStatus.CALLBACK_REQUESTED
    (ticket,) = await service.tickets()
    assert (ticket.name, ticket.phone, ticket.email) == ("Erika Mustermann", "0151 2345678",
                                                         "erika@example.de")
    assert ticket.topic["reason"] == "explicit_request"
    # The bot still answers, and asking for a person again points to the ticket.
    assert (await chat.turn("n", "Was kostet ein Ausweis?")).messages[0].text.startswith(
        "Antwort")
    again = await chat.turn("n", "Mensch!")
    assert "bereits erfasst (Nummer 1)" in again.messages[-1].text


async def test_declining_the_callback_stores_nothing(store: Store) -> None:
    config = HandoffConfig(hours=ServiceHours.parse("mo-fr 08:00-18:00"))
    service = make_service(store, config=config, clock=FakeClock(WEDNESDAY_22))
    chat, _ = _chat(store, service)
    await chat.turn("x", "Mensch")
    await chat.turn("x", YES)
    await chat.turn("x", "Max")
    bye = await chat.turn("x", "abbrechen")
    assert "nichts gespeichert" in bye.messages[0].text
    assert await service.tickets() == []


async def test_nobody_online_in_service_hours_offers_a_callback(store: Store) -> None:
    config = HandoffConfig(hours=ServiceHours.parse("mo-fr 08:00-18:00"),
                           require_staff_online=True)
    service = make_service(store, config=config, clock=FakeClock(WEDNESDAY_10))
    chat, _ = _chat(store, service)
    offer = await chat.turn("o", "Mensch")
    assert "niemand aus dem Service-Team frei" in offer.messages[-1].text
    with service.presence.online("anna"):
        queued = await chat.turn("p", "Mensch")
    assert queued.handoff is not None and queued.handoff["status"] == "queued"


async def test_a_waiting_citizen_can_ask_for_a_callback_or_leave(store: Store) -> None:
    service = make_service(store, config=always_open())
    chat, _dialogue = _chat(store, service)
    await chat.turn("w", "Mensch")
    name = await chat.turn("w", "Rückruf")
    assert name.messages[0].text.endswith("Wie ist Ihr Name?")
    await chat.turn("w", "Max Muster")
    await chat.turn("w", "max@example.de")
    await chat.turn("w", "ja")
    assert await _status(store, "w") is HandoffStatus.CALLBACK_REQUESTED
    assert await service.queue() == []

    await chat.turn("l", "Mensch")
    left = await chat.turn("l", "abbrechen")
    assert "nicht mehr in der Warteschlange" in left.messages[0].text
    assert await _status(store, "l") is HandoffStatus.BOT
    assert (await chat.turn("l", "Öffnungszeiten?")).messages[0].text.startswith("Antwort")


async def test_asking_for_a_person_with_the_button_takes_the_same_path(store: Store) -> None:
    config = HandoffConfig(hours=ServiceHours.parse("mo-fr 08:00-18:00"))
    clock = FakeClock(WEDNESDAY_22)
    service = make_service(store, config=config, clock=clock)
    chat, dialogue = _chat(store, service)
    button = HandoffRequest("explicit_request", "Über die Schaltfläche angefordert")
    offer = await chat.request_person("b", button)  # a brand-new conversation, out of hours
    assert "nicht erreichbar" in offer.messages[-1].text and offer.handoff is None
    await chat.turn("b", "/callback_no")
    clock.now = WEDNESDAY_10
    with service.presence.online("anna"):
        queued = await chat.request_person("b", button)
    assert queued.handoff is not None and queued.handoff["status"] == "queued"
    assert "Platz 1" in queued.messages[-1].text
    again = await chat.request_person("b", button)  # a double click changes nothing
    assert again.messages == () and again.handoff is not None
    assert dialogue.sent == []
    (entry,) = await service.queue()
    assert entry.reason == "explicit_request"


async def test_without_the_staff_part_a_request_only_queues(store: Store) -> None:
    chat = ChatService(store, FakeDialogue())  # type: ignore[arg-type]
    result = await chat.request_person("plain", HandoffRequest("explicit_request"))
    assert result.handoff is not None and result.handoff["status"] == "queued"
    assert (await chat.request_person("plain", HandoffRequest("explicit_request"))).messages == ()
