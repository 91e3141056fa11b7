"""The staff queue adapter on the gateway's real store (SQLite), and the call routes."""

from __future__ import annotations

from pathlib import Path

from bot.handoff.state import HandoffStatus
from bot.messages import HandoffRequest
from bot.store import Store
from voice.call import TranscriptLine
from voice.handoff import CallRoutes, Route, StoreHandoffQueue


async def test_a_call_enters_the_staff_queue_with_its_transcript(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        await store.migrate()
        transcript = [TranscriptLine("bot", "Guten Tag."),
                      TranscriptLine("caller", "Ich will mich beschweren", 0.81),
                      TranscriptLine("bot", "Ich verbinde.")]
        request = HandoffRequest("complaint", "Beschwerde", ("s1",))
        await StoreHandoffQueue(store).enqueue("call-7", request, transcript)
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


def test_call_routes_are_bounded() -> None:
    routes = CallRoutes(size=2)
    for i in range(3):
        routes.set(f"c{i}", Route("transfer", "staff"))
    assert routes.get("c0") is None
    assert routes.get("c2") == Route("transfer", "staff")
    assert Route("hangup").to_text() == "hangup"
