"""What the web chat stores besides messages: ratings of answers, and the citizen's right to
delete a conversation (through :mod:`bot.privacy.subject`, so every row of it and Rasa's
tracker events go too). The retention purge is :func:`bot.privacy.retention.purge`.

Uses the engine of :class:`bot.store.Store`, so both live in one database and one transaction
discipline. The ``feedback`` table is created idempotently on open; once it moves into
``bot.store.MIGRATIONS`` the ``IF NOT EXISTS`` keeps existing databases working.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.privacy import rows, subject
from bot.privacy.tracker import TrackerEvents
from bot.store import Store

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS feedback (
        conversation_id VARCHAR(64) NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        rating VARCHAR(8) NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (conversation_id, seq)
    )""",
)


class Rating(StrEnum):
    UP = "up"
    DOWN = "down"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class FeedbackStore:
    def __init__(self, engine: AsyncEngine, tracker: TrackerEvents | None = None) -> None:
        self._engine = engine
        self._tracker = tracker

    @classmethod
    async def open(cls, store: Store, *, tracker_store_url: str = "") -> FeedbackStore:
        """``tracker_store_url``: Rasa's SQL tracker store, whose events of a conversation are
        deleted with it (empty: Rasa keeps them in memory only)."""
        feedback = cls(store.engine, TrackerEvents(tracker_store_url) if tracker_store_url
                       else None)
        async with feedback._engine.begin() as conn:
            for statement in SCHEMA:
                await conn.execute(sa.text(statement))
        return feedback

    async def rate(self, conversation_id: str, seq: int, rating: Rating) -> bool:
        """Store (or change) the rating of one bot answer; False if there is no such answer."""
        async with self._engine.begin() as conn:
            role = (await conn.execute(sa.text(
                "SELECT role FROM messages WHERE conversation_id = :cid AND seq = :seq"),
                {"cid": conversation_id, "seq": seq})).scalar()
            if role != "bot":
                return False
            await conn.execute(sa.text(
                "INSERT INTO feedback (conversation_id, seq, rating, created_at)"
                " VALUES (:cid, :seq, :rating, :now) ON CONFLICT (conversation_id, seq)"
                " DO UPDATE SET rating = excluded.rating, created_at = excluded.created_at"),
                {"cid": conversation_id, "seq": seq, "rating": rating.value, "now": _now()})
            return True

    async def ratings(self, conversation_id: str) -> dict[int, Rating]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.text(
                "SELECT seq, rating FROM feedback WHERE conversation_id = :cid ORDER BY seq"),
                {"cid": conversation_id})).all()
        return {int(seq): Rating(rating) for seq, rating in rows}

    async def totals(self) -> dict[Rating, int]:
        """How many answers got which rating (for reports; no conversation ids)."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.text(
                "SELECT rating, COUNT(*) FROM feedback GROUP BY rating"))).all()
        return {Rating(rating): int(count) for rating, count in rows}

    async def delete_conversation(self, conversation_id: str) -> bool:
        """Delete a conversation with every row of it and Rasa's events; False if it did not
        exist."""
        counts = await subject.delete_conversation(self._engine, conversation_id, self._tracker)
        return counts[rows.CONVERSATIONS] > 0

    async def purge(self, older_than: dt.timedelta, now: dt.datetime | None = None) -> int:
        """Delete conversations not touched for ``older_than``, whatever they hold; return how
        many. The gateway uses :func:`bot.privacy.retention.purge` instead, which keeps
        conversations with open callback tickets and also cleans Rasa's tracker store."""
        cutoff = (now or _now()) - older_than
        async with self._engine.begin() as conn:
            ids = [str(r) for r in (await conn.execute(sa.text(
                "SELECT id FROM conversations WHERE updated_at < :cutoff"),
                {"cutoff": cutoff})).scalars().all()]
            counts = await rows.delete_rows(conn, await rows.conversation_tables(conn), ids)
        return counts[rows.CONVERSATIONS]
