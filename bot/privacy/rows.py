"""Everything the gateway's database holds about a set of conversations, found by schema.

Every table with a ``conversation_id`` column holds data of a conversation (messages,
feedback, handoffs, tickets, callback forms, audit entries, client turns, and whatever later
migrations add). Looking the tables up instead of listing them means a new table is exported
and deleted without touching this module; foreign-key cascades are not relied upon (the audit
log has none, and SQLite needs a pragma for them).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

CONVERSATIONS = "conversations"
BATCH = 500
_IDENT = re.compile(r"[a-z_][a-z0-9_]*")
# Columns stored as JSON text; exported as the JSON value they hold.
_JSON_COLUMNS = frozenset({"payload", "context", "handoff_context", "data", "detail", "result"})


async def conversation_tables(conn: AsyncConnection) -> list[str]:
    """Names of the tables with a ``conversation_id`` column, sorted."""
    def inspect(sync: Any) -> list[str]:
        inspector = sa.inspect(sync)
        return sorted(
            name for name in inspector.get_table_names()
            if _IDENT.fullmatch(name)
            and any(c["name"] == "conversation_id" for c in inspector.get_columns(name)))
    return list(await conn.run_sync(inspect))


def _in(sql: str) -> sa.TextClause:
    return sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))


async def count_rows(conn: AsyncConnection, tables: list[str],
                     ids: list[str]) -> dict[str, int]:
    """Rows per table that belong to the conversations ``ids``."""
    counts = dict.fromkeys(tables, 0)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        for table in tables:
            counts[table] += int((await conn.execute(_in(
                f"SELECT COUNT(*) FROM {table} WHERE conversation_id IN :ids"),
                {"ids": chunk})).scalar() or 0)
    return counts


async def delete_rows(conn: AsyncConnection, tables: list[str], ids: list[str]) -> dict[str, int]:
    """Delete the conversations ``ids`` and every row of theirs; counts per table (the
    ``conversations`` entry counts conversations that existed). Idempotent."""
    counts = dict.fromkeys([*tables, CONVERSATIONS], 0)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        for table in tables:
            result = await conn.execute(_in(
                f"DELETE FROM {table} WHERE conversation_id IN :ids"), {"ids": chunk})
            counts[table] += int(result.rowcount or 0)
        result = await conn.execute(_in(
            f"DELETE FROM {CONVERSATIONS} WHERE id IN :ids"), {"ids": chunk})
        counts[CONVERSATIONS] += int(result.rowcount or 0)
    return counts


async def existing(conn: AsyncConnection, ids: list[str]) -> set[str]:
    """Which of ``ids`` are conversations in the store."""
    found: set[str] = set()
    for start in range(0, len(ids), BATCH):
        found.update(str(r) for r in (await conn.execute(_in(
            f"SELECT id FROM {CONVERSATIONS} WHERE id IN :ids"),
            {"ids": ids[start:start + BATCH]})).scalars().all())
    return found


def jsonable(column: str, value: Any) -> Any:
    """A stored value as it belongs in an export: times in ISO 8601 UTC, JSON text parsed."""
    if isinstance(value, str) and (column == "at" or column.endswith("_at")):
        try:  # SQLite hands back its TIMESTAMP text in raw queries
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.isoformat()
    if isinstance(value, str) and column in _JSON_COLUMNS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def read_rows(conn: AsyncConnection, table: str, where: str,
                    params: dict[str, Any], order: str) -> list[dict[str, Any]]:
    result = await conn.execute(sa.text(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}"),
                                params)
    columns = list(result.keys())
    return [{c: jsonable(c, v) for c, v in zip(columns, row, strict=True)} for row in result.all()]
