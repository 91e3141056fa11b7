"""What the web chat stores besides messages: ratings of answers, and the citizen's right to
delete a conversation (plus the retention purge that deletes old ones).

Uses the engine of :class:`bot.store.Store`, so both live in one database and one transaction
discipline. The ``feedback`` table is created idempotently on open; once it moves into
``bot.store.MIGRATIONS`` the ``IF NOT EXISTS`` keeps existing databases working.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    async def open(cls, store: Store) -> FeedbackStore:
        feedback = cls(store.engine)
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
        """Delete a conversation with its messages and ratings; False if it did not exist."""
        async with self._engine.begin() as conn:
            return await _delete(conn, "id = :cid", {"cid": conversation_id}) > 0

    async def purge(self, older_than: dt.timedelta, now: dt.datetime | None = None) -> int:
        """Delete conversations not touched for ``older_than``; return how many."""
        cutoff = (now or _now()) - older_than
        async with self._engine.begin() as conn:
            return await _delete(conn, "updated_at < :cutoff", {"cutoff": cutoff})


async def _delete(conn: AsyncConnection, where: str, params: dict[str, object]) -> int:
    """Delete the conversations matching ``where`` (a constant SQL condition) and their rows.
    Child rows are deleted explicitly: SQLite cascades only with its foreign_keys pragma."""
    for table in ("feedback", "messages"):
        await conn.execute(sa.text(
            f"DELETE FROM {table} WHERE conversation_id IN"
            f" (SELECT id FROM conversations WHERE {where})"), params)
    result = await conn.execute(sa.text(f"DELETE FROM conversations WHERE {where}"), params)
    return int(result.rowcount or 0)
