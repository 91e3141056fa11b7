"""The retention purge: one place that deletes everything expired.

* A conversation is deleted ``retention_days`` after its last activity (any message, staff
  action or handoff change bumps ``conversations.updated_at``), with every row of it
  (messages, ratings, handoff episodes, callback forms, audit entries, client turns ...) and
  Rasa's tracker events — unless it still has a callback ticket that is kept.
* A callback ticket is kept while it is open or being handled (the citizen waits for the
  call) and deleted ``ticket_retention_days`` after it was closed.
* Audit entries older than ``retention_days`` whose conversation is gone, and Rasa tracker
  events of senders idle that long whose conversation is gone (or never reached the gateway),
  are deleted too.

Safe with several gateways on one PostgreSQL: conversations are selected ``FOR UPDATE SKIP
LOCKED`` in batches and every delete re-checks its condition, so concurrent runs neither
block each other nor delete a conversation that just got a new message; running twice
deletes nothing more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.handoff.tickets import TicketStatus
from bot.privacy import rows
from bot.privacy.tracker import TrackerEvents, conversation_of, senders

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.store import Store

TRACKER_EVENTS = "tracker_events"

# A ticket that is still kept: not closed, or closed less than ticket_retention_days ago.
_TICKET_KEPT = (f"NOT (t.status = '{TicketStatus.DONE.value}'"
                " AND COALESCE(t.closed_at, t.created_at) < :ticket_cutoff)")
_EXPIRED = ("c.updated_at < :cutoff AND NOT EXISTS (SELECT 1 FROM tickets t"
            f" WHERE t.conversation_id = c.id AND {_TICKET_KEPT})")
# Audit entries past retention whose conversation is gone (or that never had one).
_AUDIT_ORPHANED = ("a.at < :cutoff AND (a.conversation_id IS NULL OR NOT EXISTS"
                   " (SELECT 1 FROM conversations c WHERE c.id = a.conversation_id))")


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """Rows deleted (or, for a dry run, that would be deleted) per table, plus
    ``tracker_events`` for Rasa's events."""

    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def conversations(self) -> int:
        return self.counts.get(rows.CONVERSATIONS, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "counts": dict(sorted(self.counts.items()))}


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + value


async def purge(store: Store, settings: Settings, now: dt.datetime | None = None, *,
                dry_run: bool = False, tracker: TrackerEvents | None = None,
                batch: int = rows.BATCH) -> PurgeReport:
    """Delete everything expired at ``now`` (default: the current time); with ``dry_run``
    only count it. ``tracker`` defaults to Rasa's store at ``settings.tracker_store_url``."""
    now = _naive(now or dt.datetime.now(dt.UTC))
    params = {"cutoff": now - dt.timedelta(days=settings.retention_days),
              "ticket_cutoff": now - dt.timedelta(days=settings.ticket_retention_days)}
    own_tracker = tracker is None and bool(settings.tracker_store_url)
    if own_tracker:
        tracker = TrackerEvents(settings.tracker_store_url)
    try:
        counts = await (_count(store, params, tracker) if dry_run
                        else _delete(store, params, tracker, batch))
    finally:
        if own_tracker and tracker is not None:
            await tracker.close()
    return PurgeReport({k: v for k, v in counts.items() if v}, dry_run)


async def _count(store: Store, params: dict[str, Any],
                 tracker: TrackerEvents | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with store.engine.connect() as conn:
        tables = await rows.conversation_tables(conn)
        ids = [str(r) for r in (await conn.execute(sa.text(
            f"SELECT c.id FROM conversations c WHERE {_EXPIRED}"), params)).scalars().all()]
        _add(counts, await rows.count_rows(conn, tables, ids))
        counts[rows.CONVERSATIONS] = len(ids)
        counts["tickets"] = counts.get("tickets", 0) + int((await conn.execute(sa.text(
            f"SELECT COUNT(*) FROM tickets t WHERE NOT ({_TICKET_KEPT})"
            f" AND t.conversation_id NOT IN (SELECT c.id FROM conversations c WHERE {_EXPIRED})"),
            params)).scalar() or 0)
        counts["handoff_audit"] = counts.get("handoff_audit", 0) + int((await conn.execute(
            sa.text(f"SELECT COUNT(*) FROM handoff_audit a WHERE {_AUDIT_ORPHANED}"),
            params)).scalar() or 0)
        if tracker is not None:
            idle = await tracker.idle_senders(params["cutoff"])
            alive = await rows.existing(conn, sorted({conversation_of(s) for s in idle}))
            alive -= set(ids)
            doomed = {s for s in idle if conversation_of(s) not in alive}
            doomed.update(s for cid in ids for s in senders(cid))
            counts[TRACKER_EVENTS] = await tracker.count_senders(sorted(doomed))
    return counts


async def _delete(store: Store, params: dict[str, Any], tracker: TrackerEvents | None,
                  batch: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    lock = " FOR UPDATE SKIP LOCKED" if store.engine.dialect.name == "postgresql" else ""
    purged: list[str] = []
    while True:
        # One transaction per batch. PostgreSQL: the rows stay locked until the commit, so a
        # message arriving meanwhile waits and then finds the conversation gone (or, if it came
        # first, the row no longer matches); other gateways skip locked rows. SQLite: writers
        # are serialised, the read and the delete are one transaction.
        async with store.engine.begin() as conn:
            tables = await rows.conversation_tables(conn)
            ids = [str(r) for r in (await conn.execute(sa.text(
                f"SELECT c.id FROM conversations c WHERE {_EXPIRED} ORDER BY c.updated_at"
                f" LIMIT {int(batch)}{lock}"), params)).scalars().all()]
            _add(counts, await rows.delete_rows(conn, tables, ids))
            purged.extend(ids)
        if len(ids) < batch:
            break
    async with store.engine.begin() as conn:
        result = await conn.execute(sa.text(
            f"DELETE FROM tickets WHERE id IN (SELECT t.id FROM tickets t WHERE NOT"
            f" ({_TICKET_KEPT}))"), params)
        counts["tickets"] = counts.get("tickets", 0) + int(result.rowcount or 0)
        result = await conn.execute(sa.text(
            "DELETE FROM handoff_audit WHERE id IN (SELECT a.id FROM handoff_audit a"
            f" WHERE {_AUDIT_ORPHANED})"), params)
        counts["handoff_audit"] = counts.get("handoff_audit", 0) + int(result.rowcount or 0)
    if tracker is not None:
        deleted = await tracker.delete(purged)
        idle = await tracker.idle_senders(params["cutoff"])
        async with store.engine.connect() as conn:
            alive = await rows.existing(conn, sorted({conversation_of(s) for s in idle}))
        deleted += await tracker.delete_senders(
            [s for s in idle if conversation_of(s) not in alive])
        counts[TRACKER_EVENTS] = deleted
    return counts
