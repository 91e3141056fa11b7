"""Rasa's copy of a conversation: the ``events`` table of its SQL tracker store.

With ``tracker_store_url`` set, Rasa keeps every event of a conversation (the citizen's texts
included) in its own table, keyed by ``sender_id`` = our conversation id. The staff console's
suggestions use a second sender, ``<conversation>--staff-suggest`` (bot/handoff/suggest.py).
Deleting a conversation therefore deletes the events of both senders. With the in-memory
tracker store (no URL) Rasa's copy is gone when Rasa restarts, and its memory is bounded by
its own tracker expiry; nothing to do here.

Connections are not pooled (``NullPool``): the purge runs once an hour and deletions are rare,
so no idle connection to the tracker database is held between calls.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.handoff.suggest import SUFFIX as SUGGEST_SUFFIX
from bot.store import async_url

TABLE = "events"  # rasa.core.tracker_store.SQLTrackerStore.SQLEvent.__tablename__


def senders(conversation_id: str) -> list[str]:
    """Every Rasa sender id that holds data of ``conversation_id``."""
    return [conversation_id, conversation_id + SUGGEST_SUFFIX]


def conversation_of(sender_id: str) -> str:
    """The conversation id a Rasa sender id belongs to."""
    return sender_id.removesuffix(SUGGEST_SUFFIX)


class TrackerEvents:
    """Deletes and reads Rasa's stored events. Every method is a no-op (0 / []) while Rasa has
    not created its table yet."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine = create_async_engine(async_url(url), poolclass=NullPool,
                                                         hide_parameters=True)

    async def close(self) -> None:
        await self._engine.dispose()

    @staticmethod
    async def _has_table(conn: AsyncConnection) -> bool:
        return bool(await conn.run_sync(lambda sync: sa.inspect(sync).has_table(TABLE)))

    async def delete(self, conversation_ids: list[str]) -> int:
        """Delete the events of these conversations (and their suggestion senders)."""
        return await self.delete_senders([s for cid in conversation_ids for s in senders(cid)])

    async def delete_senders(self, ids: list[str]) -> int:
        """Delete the events of these Rasa sender ids; idempotent."""
        if not ids:
            return 0
        deleted = 0
        async with self._engine.begin() as conn:
            if not await self._has_table(conn):
                return 0
            for start in range(0, len(ids), 500):
                result = await conn.execute(
                    sa.text(f"DELETE FROM {TABLE} WHERE sender_id IN :ids")
                    .bindparams(sa.bindparam("ids", expanding=True)),
                    {"ids": ids[start:start + 500]})
                deleted += int(result.rowcount or 0)
        return deleted

    async def idle_senders(self, cutoff: dt.datetime) -> list[str]:
        """Sender ids whose newest event is older than ``cutoff`` (aware or naive UTC)."""
        stamp = cutoff.replace(tzinfo=dt.UTC).timestamp() if cutoff.tzinfo is None \
            else cutoff.timestamp()
        async with self._engine.connect() as conn:
            if not await self._has_table(conn):
                return []
            rows = (await conn.execute(sa.text(
                f"SELECT sender_id FROM {TABLE} GROUP BY sender_id"
                " HAVING MAX(timestamp) < :stamp"), {"stamp": stamp})).scalars().all()
        return sorted(str(r) for r in rows)

    async def count_senders(self, ids: list[str]) -> int:
        """How many events these Rasa sender ids have."""
        if not ids:
            return 0
        async with self._engine.connect() as conn:
            if not await self._has_table(conn):
                return 0
            total = 0
            for start in range(0, len(ids), 500):
                total += int((await conn.execute(
                    sa.text(f"SELECT COUNT(*) FROM {TABLE} WHERE sender_id IN :ids")
                    .bindparams(sa.bindparam("ids", expanding=True)),
                    {"ids": ids[start:start + 500]})).scalar() or 0)
        return total

    async def export(self, conversation_id: str) -> list[dict[str, Any]]:
        """The stored events of one conversation, oldest first, as Rasa serialised them."""
        async with self._engine.connect() as conn:
            if not await self._has_table(conn):
                return []
            rows = (await conn.execute(
                sa.text(f"SELECT sender_id, type_name, timestamp, data FROM {TABLE}"
                        " WHERE sender_id IN :ids ORDER BY id")
                .bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": senders(conversation_id)})).all()
        out: list[dict[str, Any]] = []
        for sender_id, type_name, timestamp, data in rows:
            try:
                event = json.loads(data) if data else {}
            except ValueError:
                event = {"raw": data}
            out.append({"sender_id": sender_id, "event": type_name, "timestamp": timestamp,
                        "data": event})
        return out
