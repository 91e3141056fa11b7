"""The retention purge on SQLite and PostgreSQL, with Rasa's real SQL tracker store."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.feedback import FeedbackStore, Rating
from bot.handoff.state import HandoffStatus
from bot.privacy import retention
from bot.privacy.tracker import TrackerEvents
from bot.settings import Settings
from bot.store import Store
from tests.handoff.fixtures import AGENT_A, FakeClock, make_service
from tests.privacy.rasa_tracker import save_events, tracker_url

DAY = dt.timedelta(days=1)
CONTEXT = {"reason": "complaint", "summary": "Beschwerde"}


async def _touch(store: Store, cid: str, at: dt.datetime) -> None:
    """Pretend the conversation's last activity was at ``at`` (the store stamps real time)."""
    async with store.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE conversations SET updated_at = :at WHERE id = :cid"),
                           {"at": at.replace(tzinfo=None), "cid": cid})


async def _ids(store: Store, table: str, column: str = "conversation_id") -> set[str]:
    async with store.engine.connect() as conn:
        return {str(r) for r in (await conn.execute(sa.text(
            f"SELECT {column} FROM {table}"))).scalars().all()}


async def _events(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {str(r) for r in conn.execute(sa.text(
                "SELECT DISTINCT sender_id FROM events")).scalars().all()}
    finally:
        engine.dispose()


async def _world(store: Store, t0: dt.datetime) -> None:
    """Conversations in every state the purge must tell apart, all last active at ``t0``
    unless said otherwise."""
    clock = FakeClock(t0)
    service = make_service(store, clock=clock)
    feedback = await FeedbackStore.open(store)
    # old: a rated answer and a finished handoff — everything goes
    await store.append("old", [("citizen", "Ich heiße Anna Schmidt", {}), ("bot", "Hallo", {})])
    await feedback.rate("old", 2, Rating.UP)
    await store.set_handoff("old", HandoffStatus.QUEUED, CONTEXT)
    await service.claim("old", AGENT_A)
    await service.close("old", AGENT_A, "resolved")
    # fresh: active 20 days later — kept
    await store.append("fresh", [("citizen", "Reisepass?", {})])
    # waiting: an open callback ticket — kept however old
    await store.append("waiting", [("citizen", "Bitte rufen Sie mich an", {})])
    await store.set_handoff("waiting", HandoffStatus.QUEUED, CONTEXT)
    await service.claim("waiting", AGENT_A)
    await service.close("waiting", AGENT_A, "callback_needed",
                        callback={"name": "Erika Muster", "phone": "0151 2345678"})
    # called: ticket closed at t0 — goes; called-late: ticket closed 10 days later — kept
    for cid in ("called", "called-late"):
        await store.append(cid, [("citizen", "Rückruf bitte", {})])
        await store.set_handoff(cid, HandoffStatus.QUEUED, CONTEXT)
        await service.claim(cid, AGENT_A)
        await service.close(cid, AGENT_A, "callback_needed", callback={"name": "Max"})
    tickets = {t.conversation_id: t.id for t in await service.tickets()}
    await service.close_ticket(tickets["called"], AGENT_A, "resolved")
    clock.advance(days=10)
    await service.close_ticket(tickets["called-late"], AGENT_A, "resolved")
    for cid in ("old", "waiting", "called"):
        await _touch(store, cid, t0)
    await _touch(store, "called-late", t0 + 10 * DAY)
    await _touch(store, "fresh", t0 + 20 * DAY)


async def test_purge_deletes_what_expired_and_keeps_the_rest(store: Store, db_url: str,
                                                             tmp_path: Path) -> None:
    t0 = dt.datetime.now(dt.UTC)
    await _world(store, t0)
    url = tracker_url(db_url, tmp_path)
    stamp = t0.timestamp()
    await save_events(url, {"old": stamp, "old--staff-suggest": stamp, "waiting": stamp,
                            "fresh": (t0 + 20 * DAY).timestamp(), "ghost": stamp})
    settings = Settings(retention_days=30, ticket_retention_days=30, tracker_store_url=url)
    now = t0 + 31 * DAY

    async with store.engine.connect() as conn:
        doomed_messages = (await conn.execute(sa.text(
            "SELECT COUNT(*) FROM messages WHERE conversation_id IN ('old', 'called')"))).scalar()
    assert doomed_messages >= 3

    dry = await retention.purge(store, settings, now, dry_run=True)
    assert await _ids(store, "conversations", "id") == {"old", "fresh", "waiting", "called",
                                                       "called-late"}  # nothing deleted

    report = await retention.purge(store, settings, now)
    assert report.counts == dry.counts and not report.dry_run and dry.dry_run
    assert await _ids(store, "conversations", "id") == {"fresh", "waiting", "called-late"}
    assert report.conversations == 2
    assert report.counts["messages"] == doomed_messages
    assert report.counts["feedback"] == 1
    assert report.counts["handoffs"] == 2
    assert report.counts["tickets"] == 1
    assert report.counts["tracker_events"] == 6  # old, old's suggestions, ghost: 2 each
    for table in ("messages", "handoffs", "handoff_audit", "feedback", "tickets"):
        assert not {"old", "called"} & await _ids(store, table), table
    assert await _ids(store, "tickets") == {"waiting", "called-late"}
    assert await _events(url) == {"waiting", "fresh"}

    again = await retention.purge(store, settings, now)
    assert again.total == 0  # idempotent

    # Later: the late ticket and the fresh conversation expire too; the open ticket stays.
    later = await retention.purge(store, settings, t0 + 51 * DAY)
    assert later.conversations == 2
    assert await _ids(store, "conversations", "id") == {"waiting"}
    assert await _ids(store, "tickets") == {"waiting"}
    assert await _events(url) == {"waiting"}


async def test_ticket_retention_is_its_own_setting(store: Store) -> None:
    t0 = dt.datetime.now(dt.UTC)
    await _world(store, t0)
    keep_tickets = Settings(retention_days=30, ticket_retention_days=365)
    await retention.purge(store, keep_tickets, t0 + 31 * DAY)
    # The closed ticket is kept a year, and its conversation with it.
    assert await _ids(store, "tickets") == {"waiting", "called", "called-late"}
    assert "called" in await _ids(store, "conversations", "id")
    assert "old" not in await _ids(store, "conversations", "id")


async def test_without_a_tracker_store_rasa_is_not_touched(store: Store) -> None:
    t0 = dt.datetime.now(dt.UTC)
    await store.append("a", [("citizen", "Hallo", {})])
    report = await retention.purge(store, Settings(), t0 + 31 * DAY)
    assert report.counts == {"conversations": 1, "messages": 1}
    assert "tracker_events" not in report.counts


async def test_a_tracker_store_rasa_has_not_created_yet_is_no_error(store: Store,
                                                                    tmp_path: Path) -> None:
    await store.append("a", [("citizen", "Hallo", {})])
    url = f"sqlite:///{tmp_path}/empty.db"
    report = await retention.purge(store, Settings(tracker_store_url=url),
                                   dt.datetime.now(dt.UTC) + 31 * DAY)
    assert report.conversations == 1


async def test_concurrent_purges_by_several_gateways_delete_each_row_once(
        db_url: str, tmp_path: Path) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("several gateways share one database only with PostgreSQL")
    stores = [await Store.open(db_url) for _ in range(3)]
    try:
        for i in range(25):
            await stores[0].append(f"c{i}", [("citizen", "Hallo", {}), ("bot", "Tag", {})])
        url = tracker_url(db_url, tmp_path)
        now = dt.datetime.now(dt.UTC)
        await save_events(url, {f"c{i}": now.timestamp() for i in range(25)})
        settings = Settings(tracker_store_url=url)
        tracker = TrackerEvents(url)
        reports = await asyncio.gather(*(
            retention.purge(s, settings, now + 31 * DAY, batch=4, tracker=tracker)
            for s in stores))
        await tracker.close()
        assert sum(r.conversations for r in reports) == 25
        assert sum(r.counts.get("messages", 0) for r in reports) == 50
        assert sum(r.counts.get("tracker_events", 0) for r in reports) == 50
        assert await _ids(stores[0], "conversations", "id") == set()
        assert await _events(url) == set()
    finally:
        for s in stores:
            await s.close()


async def test_a_message_after_the_cutoff_saves_the_conversation(store: Store) -> None:
    t0 = dt.datetime.now(dt.UTC)
    await store.append("a", [("citizen", "Hallo", {})])
    await _touch(store, "a", t0 - 40 * DAY)
    await store.append("a", [("citizen", "Noch eine Frage", {})])  # stamps the real time
    report = await retention.purge(store, Settings(), t0)
    assert report.total == 0
    assert [m.seq for m in await store.messages("a")] == [1, 2]
