"""A citizen's rights over one conversation: a copy of everything stored about it (GDPR
Art. 15/20) and its deletion (Art. 17), including Rasa's tracker events."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.privacy import rows
from bot.privacy.retention import TRACKER_EVENTS
from bot.privacy.tracker import TrackerEvents

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

FORMAT = "buergerbot-conversation-export/1"
# Order rows the way a reader expects; other tables by their first column.
_ORDER = {"messages": "seq", "handoffs": "queued_at, id", "tickets": "id",
          "handoff_audit": "at, id", "feedback": "seq"}


async def export_conversation(engine: AsyncEngine, conversation_id: str,
                              tracker: TrackerEvents | None = None) -> dict[str, Any] | None:
    """Everything stored about the conversation as JSON-ready data; None if it does not
    exist. Each table holding rows of it appears under its own name."""
    async with engine.connect() as conn:
        found = await rows.read_rows(conn, rows.CONVERSATIONS, "id = :cid",
                                     {"cid": conversation_id}, "id")
        if not found:
            return None
        out: dict[str, Any] = {
            "format": FORMAT,
            "exported_at": dt.datetime.now(dt.UTC).isoformat(),
            "conversation": found[0],
        }
        for table in await rows.conversation_tables(conn):
            out[table] = await rows.read_rows(conn, table, "conversation_id = :cid",
                                              {"cid": conversation_id},
                                              _ORDER.get(table, "1"))
    if tracker is not None:
        out[TRACKER_EVENTS] = await tracker.export(conversation_id)
    return out


async def delete_conversation(engine: AsyncEngine, conversation_id: str,
                              tracker: TrackerEvents | None = None) -> dict[str, int]:
    """Delete the conversation and every row of it (open tickets included: the citizen asked
    for it), and Rasa's events of it. Rows deleted per table; ``conversations`` is 0 when the
    conversation did not exist (Rasa's events of the id are deleted in either case)."""
    async with engine.begin() as conn:
        counts = await rows.delete_rows(conn, await rows.conversation_tables(conn),
                                        [conversation_id])
    if tracker is not None:
        counts[TRACKER_EVENTS] = await tracker.delete([conversation_id])
    return {k: v for k, v in counts.items() if v or k == rows.CONVERSATIONS}
