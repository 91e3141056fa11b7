"""The staff queue adapter on the gateway's real store (SQLite), and the call routes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from bot.handoff.state import HandoffStatus
from bot.messages import BotMessage, HandoffRequest
from bot.store import Store
from voice.call import TranscriptLine
from voice.handoff import CallRoutes, EscalatingHandoffQueue, Route, StoreHandoffQueue


async def test_a_call_enters_the_staff_queue_with_its_transcript(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        await store.migrate()
        transcript = [TranscriptLine("bot", "Guten Tag."),
                      TranscriptLine("caller", "Ich will mich beschweren", 0.81),
                      TranscriptLine("bot", "Ich verbinde.")]
        request = HandoffRequest("complaint", "Beschwerde", ("s1",))
        outcome = await StoreHandoffQueue(store).enqueue("call-7", request, transcript)
        assert outcome.transfer
        state = await store.conversation("call-7")
        assert state is not None and state.handoff_status is HandoffStatus.QUEUED
        assert state.handoff_context is not None
        assert state.handoff_context["channel"] == "voice"
        assert state.handoff_context["reason"] == "complaint"
        messages = await store.messages("call-7")
        assert [(m.role, m.text) for m in messages] == [
            ("bot", "Guten Tag."), ("citizen", "Ich will mich beschweren"),
            ("bot", "Ich verbinde.")]
        assert messages[1].payload == {"confidence": 0.81}
    finally:
        await store.close()


class Gate:
    """Stands in for ChatService.request_person: answers like the gateway's gate."""

    def __init__(self, status: str | None, text: str) -> None:
        self.status, self.text = status, text
        self.calls: list[tuple[str, HandoffRequest, str]] = []

    async def request_person(self, conversation_id: str, request: HandoffRequest, *,
                             channel: str = "web") -> SimpleNamespace:
        self.calls.append((conversation_id, request, channel))
        handoff = {"status": self.status} if self.status else None
        return SimpleNamespace(conversation_id=conversation_id,
                               messages=(BotMessage(self.text),), handoff=handoff)


async def test_escalation_through_the_gate_decides_the_transfer(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        await store.migrate()
        request = HandoffRequest("explicit_request", "Taste 0")
        queued = Gate("queued", "Sie sind an Platz 1.")
        outcome = await EscalatingHandoffQueue(store, queued).enqueue(
            "call-8", request, [TranscriptLine("caller", "[Taste 0: Mitarbeiter]")])
        assert outcome.transfer
        assert queued.calls == [("call-8", request, "voice")]
        assert [m.text for m in await store.messages("call-8")] == ["[Taste 0: Mitarbeiter]"]
        closed = Gate("callback_requested", "Wir rufen Sie zurück.")
        outcome = await EscalatingHandoffQueue(store, closed).enqueue("call-9", request, [])
        assert not outcome.transfer
        assert [m.text for m in outcome.messages] == ["Wir rufen Sie zurück."]
    finally:
        await store.close()


def test_call_routes_are_bounded() -> None:
    routes = CallRoutes(size=2)
    for i in range(3):
        routes.set(f"c{i}", Route("transfer", "staff"))
    assert routes.get("c0") is None
    assert routes.get("c2") == Route("transfer", "staff")
    assert Route("hangup").to_text() == "hangup"
