"""The handoff lifecycle against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest

from bot.handoff.errors import (
    AlreadyClaimed,
    InvalidOutcome,
    InvalidReleaseTarget,
    NotACall,
    NotOwner,
    NotQueued,
    TicketAlreadyClaimed,
    TicketClosed,
)
from bot.handoff.events import CallTransferRequested, MessageAdded, QueueChanged
from bot.handoff.model import Actor, StaffRole
from bot.handoff.service import HandoffService
from bot.handoff.state import HandoffStatus
from bot.store import Store
from tests.handoff.fixtures import (
    AGENT_A,
    AGENT_B,
    BOSS,
    FakeClock,
    RecordingNotifier,
    make_service,
)

CONTEXT = {"reason": "complaint", "summary": "Beschwerde über Wartezeit im Bürgerbüro",
           "services": ["personalausweis"], "aspect": "termin"}


async def _escalate(store: Store, cid: str, *, channel: str = "web") -> None:
    await store.append(cid, [("citizen", "Ich möchte mich beschweren", {}),
                             ("bot", "Ich verbinde Sie.", {})], channel=channel)
    await store.set_handoff(cid, HandoffStatus.QUEUED, CONTEXT)


async def test_an_escalation_enters_the_queue_with_its_context(store: Store) -> None:
    clock = FakeClock()
    service = make_service(store, clock=clock)
    async with service.hub.subscribe() as events:
        await _escalate(store, "c1")
        clock.advance(seconds=90)
        await _escalate(store, "c2", channel="voice")
        assert events.get_nowait() == QueueChanged("c1", "queued")
    entries = await service.queue()
    assert [(e.conversation_id, e.position, e.channel) for e in entries] == [
        ("c1", 1, "web"), ("c2", 2, "voice")]
    first = entries[0]
    assert (first.reason, first.summary, first.services, first.aspect) == (
        "complaint", CONTEXT["summary"], ("personalausweis",), "termin")
    assert first.last_citizen_text == "Ich möchte mich beschweren"
    assert first.waiting_seconds >= 90 - 1
    waiting = await service.waiting("c2")
    assert waiting.position == 2 and waiting.seconds and waiting.seconds > 0


async def test_exactly_one_of_many_concurrent_claims_wins(store: Store) -> None:
    service = make_service(store)
    await _escalate(store, "race")
    actors = [Actor(f"agent{i}", f"Agent {i}", StaffRole.AGENT) for i in range(8)]
    results = await asyncio.gather(*(service.claim("race", a) for a in actors),
                                   return_exceptions=True)
    winners = [a for a, r in zip(actors, results, strict=True) if r is True]
    losers = [r for r in results if isinstance(r, AlreadyClaimed)]
    assert len(winners) == 1 and len(losers) == 7, results
    # Without a staff account row the holder is shown by username.
    assert all(err.holder == winners[0].username for err in losers)
    # Claiming again is harmless for the winner (a double click) ...
    assert await service.claim("race", winners[0]) is False
    # ... and the queue shows the owner.
    (entry,) = await service.queue()
    assert (entry.status, entry.assigned_to, entry.position) == ("assigned", winners[0].username,
                                                                 None)


async def test_claim_of_a_conversation_that_does_not_wait(store: Store) -> None:
    service = make_service(store)
    await store.append("quiet", [("citizen", "Hallo", {})])
    with pytest.raises(NotQueued):
        await service.claim("quiet", AGENT_A)


async def test_live_chat_both_ways_and_the_audit_log(store: Store) -> None:
    notifier = RecordingNotifier()
    service = make_service(store, notifier=notifier)
    await _escalate(store, "chat")
    with pytest.raises(NotOwner):
        await service.post("chat", AGENT_A, "Guten Tag")
    await service.claim("chat", AGENT_A)
    async with service.hub.subscribe() as events:
        staff_message = await service.post("chat", AGENT_A, "Guten Tag, wie kann ich helfen?")
        event = events.get_nowait()
    assert isinstance(event, MessageAdded) and event.message["role"] == "staff"
    assert notifier.told.count("chat") == 2  # "Anna ist jetzt für Sie da" and the message
    with pytest.raises(NotOwner):
        await service.post("chat", AGENT_B, "Ich mische mich ein")
    roles = [(m.role, m.text) for m in await store.messages("chat")]
    assert roles[-2:] == [("system", "Anna Berger vom Service-Team ist jetzt für Sie da."),
                          ("staff", "Guten Tag, wie kann ich helfen?")]
    assert staff_message.seq == len(roles)
    detail = await service.detail("chat", AGENT_A)
    assert [a["action"] for a in detail["audit"]] == ["queued", "claimed", "message"]
    assert detail["audit"][1]["actor"] == "anna"
    assert detail["actions"] == {"claim": False, "write": True, "release": True,
                                 "transfer_call": False}
    assert detail["conversation"]["assigned_to_name"] == "anna"  # no account row in this test


async def test_hand_back_to_the_bot_asks_for_a_rating(store: Store) -> None:
    service = make_service(store)
    await _escalate(store, "back")
    await service.claim("back", AGENT_A)
    with pytest.raises(InvalidReleaseTarget):
        await service.release("back", AGENT_A, "nowhere")
    with pytest.raises(NotOwner):
        await service.release("back", AGENT_B, "bot")
    assert await service.release("back", AGENT_A, "bot") is HandoffStatus.BOT
    state = await store.conversation("back")
    assert state is not None and state.handoff_status is HandoffStatus.BOT
    last = (await store.messages("back"))[-1]
    assert last.role == "bot" and len(last.payload["buttons"]) == 5
    assert await service.record_rating("back", 4) is True
    assert await service.queue() == []
    # The conversation can be escalated again later: a new episode.
    await _escalate(store, "back")
    assert [e.conversation_id for e in await service.queue()] == ["back"]


async def test_release_to_the_queue_and_a_supervisor_may_release_for_others(
        store: Store) -> None:
    service = make_service(store)
    await _escalate(store, "q")
    await service.claim("q", AGENT_A)
    assert await service.release("q", BOSS, "queue") is HandoffStatus.QUEUED
    (entry,) = await service.queue()
    assert (entry.status, entry.assigned_to, entry.position) == ("queued", None, 1)
    assert await service.claim("q", AGENT_B) is True


async def test_close_with_outcome_and_callback_ticket(store: Store) -> None:
    clock = FakeClock()
    service = make_service(store, clock=clock)
    await _escalate(store, "done")
    await service.claim("done", AGENT_A)
    with pytest.raises(InvalidOutcome):
        await service.close("done", AGENT_A, "great")
    assert await service.close("done", AGENT_A, "resolved") is HandoffStatus.CLOSED
    await store.append("cb", [("citizen", "Bitte rufen Sie mich an", {})])
    await store.set_handoff("cb", HandoffStatus.QUEUED, CONTEXT)
    await service.claim("cb", AGENT_A)
    status = await service.close("cb", AGENT_A, "callback_needed", note="Termin klären",
                                 callback={"name": "Erika Muster", "phone": "0151 2345678"})
    assert status is HandoffStatus.CALLBACK_REQUESTED
    (ticket,) = await service.tickets()
    assert (ticket.conversation_id, ticket.status, ticket.name, ticket.overdue) == (
        "cb", "open", "Erika Muster", False)
    assert ticket.topic["note"] == "Termin klären"
    clock.advance(hours=25)
    (ticket,) = await service.tickets()
    assert ticket.overdue
    results = await asyncio.gather(service.claim_ticket(ticket.id, AGENT_A),
                                   service.claim_ticket(ticket.id, AGENT_B),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["TicketAlreadyClaimed", "bool"]
    owner = AGENT_A if results[0] is True else AGENT_B
    other = AGENT_B if owner is AGENT_A else AGENT_A
    with pytest.raises(TicketAlreadyClaimed):
        await service.claim_ticket(ticket.id, other)
    await service.close_ticket(ticket.id, owner, "called_back")
    with pytest.raises(TicketClosed):
        await service.close_ticket(ticket.id, owner, "called_back")
    assert await service.tickets() == []
    (done,) = await service.tickets(include_done=True)
    assert (done.status, done.name, done.phone, done.outcome) == ("done", "", None, "called_back")
    state = await store.conversation("cb")
    assert state is not None and state.handoff_status is HandoffStatus.CLOSED


async def test_a_supervisor_can_close_spam_from_the_queue_an_agent_cannot(store: Store) -> None:
    service = make_service(store)
    await _escalate(store, "spam")
    with pytest.raises(NotOwner):
        await service.close("spam", AGENT_A, "abusive")
    assert await service.close("spam", BOSS, "abusive") is HandoffStatus.CLOSED


async def test_voice_calls_join_the_queue_and_can_be_transferred(store: Store) -> None:
    service = make_service(store)
    await _escalate(store, "call", channel="voice")
    await _escalate(store, "chat")
    with pytest.raises(NotACall):
        await service.transfer_call("chat", AGENT_A)
    async with service.hub.subscribe() as events:
        await service.transfer_call("call", AGENT_B)
        seen = []
        while (event := events.get_nowait()) is not None:
            seen.append(event)
    assert CallTransferRequested("call", "ben") in seen
    detail = await service.detail("call", AGENT_B)
    assert detail["conversation"]["status"] == "assigned"
    assert [a["action"] for a in detail["audit"]][-2:] == ["claimed", "call_transfer"]


async def test_a_restart_mid_handoff_loses_nothing(db_url: str) -> None:
    first_store = await Store.open(db_url)
    first = make_service(first_store)
    await _escalate(first_store, "r1")
    await _escalate(first_store, "r2")
    await first.claim("r1", AGENT_A)
    await first.post("r1", AGENT_A, "Ich bin gleich wieder da")
    await first_store.close()

    second_store = await Store.open(db_url)
    try:
        second: HandoffService = make_service(second_store)
        entries = {e.conversation_id: e for e in await second.queue()}
        assert entries["r1"].status == "assigned" and entries["r1"].assigned_to == "anna"
        assert entries["r2"].status == "queued" and entries["r2"].position == 1
        await second.post("r1", AGENT_A, "Da bin ich wieder")
        with pytest.raises(AlreadyClaimed):
            await second.claim("r1", AGENT_B)
        texts = [m.text for m in await second_store.messages("r1") if m.role == "staff"]
        assert texts == ["Ich bin gleich wieder da", "Da bin ich wieder"]
        assert await second.release("r1", AGENT_A, "bot") is HandoffStatus.BOT
    finally:
        await second_store.close()
