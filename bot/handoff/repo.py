"""SQL of the handoff tables (migration 2 in :mod:`bot.store`). Functions take the open
connection, so callers put several of them into one transaction."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.handoff.model import AuditEntry, Ticket
from bot.handoff.tickets import TicketStatus, is_overdue


def naive(value: dt.datetime) -> dt.datetime:
    """Aware → naive UTC, the store's convention."""
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def as_datetime(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _maybe_datetime(value: Any) -> dt.datetime | None:
    return None if value is None else as_datetime(value)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _load(value: Any) -> dict[str, Any]:
    data = json.loads(value) if value else {}
    return data if isinstance(data, dict) else {}


def new_id() -> str:
    return uuid.uuid4().hex


# -- conversations -------------------------------------------------------------------------------
async def conversation_row(conn: AsyncConnection, cid: str) -> Row[Any] | None:
    return (await conn.execute(sa.text(
        "SELECT id, channel, handoff_status, handoff_context, assigned_to, last_seq"
        " FROM conversations WHERE id = :id"), {"id": cid})).first()


async def move(conn: AsyncConnection, cid: str, *, from_status: Iterable[str], to_status: str,
               assigned_to: str | None, owner: str | None = None,
               context: dict[str, Any] | None = None, at: dt.datetime) -> bool:
    """Compare-and-set the handoff state: True if this call moved it. ``owner`` additionally
    requires the current assignee. The single conditional UPDATE is what makes claims safe."""
    allowed = list(from_status)
    params: dict[str, Any] = {"to": to_status, "who": assigned_to, "id": cid, "now": naive(at),
                              "ctx": _json(context)}
    names = []
    for i, status in enumerate(allowed):
        params[f"f{i}"] = status
        names.append(f":f{i}")
    sql = ("UPDATE conversations SET handoff_status = :to, assigned_to = :who, updated_at = :now,"
           " handoff_context = COALESCE(:ctx, handoff_context)"
           f" WHERE id = :id AND handoff_status IN ({', '.join(names)})")
    if owner is not None:
        sql += " AND assigned_to = :owner"
        params["owner"] = owner
    result = await conn.execute(sa.text(sql), params)
    return bool(result.rowcount == 1)


# -- episodes ------------------------------------------------------------------------------------
async def open_episode(conn: AsyncConnection, cid: str, *, channel: str,
                       context: dict[str, Any] | None, queued_seq: int, at: dt.datetime) -> str:
    """Start a handoff episode, or put the open one back into the queue."""
    current = await open_episode_id(conn, cid)
    if current is not None:
        await unclaim_episode(conn, cid)
        return current
    episode = new_id()
    await conn.execute(sa.text(
        "INSERT INTO handoffs (id, conversation_id, channel, reason, context, queued_seq,"
        " queued_at) VALUES (:id, :cid, :ch, :reason, :ctx, :seq, :at)"),
        {"id": episode, "cid": cid, "ch": channel,
         "reason": str((context or {}).get("reason") or "unknown")[:64], "ctx": _json(context),
         "seq": queued_seq, "at": naive(at)})
    return episode


async def open_episode_id(conn: AsyncConnection, cid: str) -> str | None:
    value = (await conn.execute(sa.text(
        "SELECT id FROM handoffs WHERE conversation_id = :cid AND ended_at IS NULL"
        " ORDER BY queued_at DESC"), {"cid": cid})).scalar()
    return None if value is None else str(value)


async def claim_episode(conn: AsyncConnection, cid: str, *, by: str, at: dt.datetime) -> None:
    await conn.execute(sa.text(
        "UPDATE handoffs SET claimed_at = :at, claimed_by = :by"
        " WHERE conversation_id = :cid AND ended_at IS NULL"),
        {"at": naive(at), "by": by, "cid": cid})


async def unclaim_episode(conn: AsyncConnection, cid: str) -> None:
    await conn.execute(sa.text(
        "UPDATE handoffs SET claimed_at = NULL, claimed_by = NULL"
        " WHERE conversation_id = :cid AND ended_at IS NULL"), {"cid": cid})


async def end_episode(conn: AsyncConnection, cid: str, *, by: str, end_status: str,
                      at: dt.datetime, outcome: str | None = None,
                      ask_rating: bool = False) -> str | None:
    episode = await open_episode_id(conn, cid)
    if episode is None:
        return None
    await conn.execute(sa.text(
        "UPDATE handoffs SET ended_at = :at, ended_by = :by, end_status = :end,"
        " outcome = :outcome, rating_asked_at = :asked WHERE id = :id"),
        {"at": naive(at), "by": by, "end": end_status, "outcome": outcome,
         "asked": naive(at) if ask_rating else None, "id": episode})
    return episode


async def pending_rating(conn: AsyncConnection, cid: str, since: dt.datetime) -> str | None:
    value = (await conn.execute(sa.text(
        "SELECT id FROM handoffs WHERE conversation_id = :cid AND rating_asked_at >= :since"
        " AND rating IS NULL ORDER BY rating_asked_at DESC"),
        {"cid": cid, "since": naive(since)})).scalar()
    return None if value is None else str(value)


async def set_rating(conn: AsyncConnection, episode: str, score: int) -> None:
    await conn.execute(sa.text("UPDATE handoffs SET rating = :r WHERE id = :id"),
                       {"r": score, "id": episode})


async def recent_handle_seconds(conn: AsyncConnection, since: dt.datetime,
                                limit: int = 20) -> list[float]:
    rows = (await conn.execute(sa.text(
        "SELECT claimed_at, ended_at FROM handoffs WHERE claimed_at IS NOT NULL"
        " AND ended_at IS NOT NULL AND ended_at >= :since ORDER BY ended_at DESC LIMIT :n"),
        {"since": naive(since), "n": limit})).all()
    return [(as_datetime(r[1]) - as_datetime(r[0])).total_seconds() for r in rows]


async def ever_handed_off(conn: AsyncConnection, cid: str) -> bool:
    """Whether staff have a reason to read this conversation (an episode or a ticket)."""
    found = (await conn.execute(sa.text(
        "SELECT 1 FROM handoffs WHERE conversation_id = :cid UNION ALL"
        " SELECT 1 FROM tickets WHERE conversation_id = :cid"), {"cid": cid})).first()
    return found is not None


async def last_citizen_text(conn: AsyncConnection, cid: str) -> str | None:
    value = (await conn.execute(sa.text(
        "SELECT text FROM messages WHERE conversation_id = :cid AND role = 'citizen'"
        " ORDER BY seq DESC LIMIT 1"), {"cid": cid})).scalar()
    return None if value is None else str(value)


# -- the queue -----------------------------------------------------------------------------------
QUEUE_SQL = """
SELECT c.id, c.channel, c.handoff_status, c.assigned_to, h.reason, h.context, h.queued_at,
       c.last_seq,
       (SELECT m.text FROM messages m WHERE m.conversation_id = c.id AND m.role = 'citizen'
        ORDER BY m.seq DESC LIMIT 1) AS last_citizen
FROM conversations c
JOIN handoffs h ON h.conversation_id = c.id AND h.ended_at IS NULL
WHERE c.handoff_status IN ('queued', 'assigned')
ORDER BY h.queued_at, c.id
"""


async def queue_rows(conn: AsyncConnection) -> Sequence[Row[Any]]:
    return (await conn.execute(sa.text(QUEUE_SQL))).all()


# -- callback forms ------------------------------------------------------------------------------
async def get_form(conn: AsyncConnection, cid: str) -> dict[str, Any] | None:
    value = (await conn.execute(sa.text(
        "SELECT data FROM callback_forms WHERE conversation_id = :cid"), {"cid": cid})).scalar()
    return _load(value) if value else None


async def save_form(conn: AsyncConnection, cid: str, data: dict[str, Any],
                    at: dt.datetime) -> None:
    await conn.execute(sa.text(
        "INSERT INTO callback_forms (conversation_id, data, updated_at) VALUES (:cid, :d, :at)"
        " ON CONFLICT (conversation_id) DO UPDATE SET data = excluded.data,"
        " updated_at = excluded.updated_at"), {"cid": cid, "d": _json(data), "at": naive(at)})


async def delete_form(conn: AsyncConnection, cid: str) -> None:
    await conn.execute(sa.text("DELETE FROM callback_forms WHERE conversation_id = :cid"),
                       {"cid": cid})


# -- tickets -------------------------------------------------------------------------------------
async def next_ticket_id(conn: AsyncConnection) -> int:
    row = (await conn.execute(sa.text(
        "UPDATE counters SET value = value + 1 WHERE name = 'ticket' RETURNING value"))).first()
    assert row is not None
    return int(row[0])


async def insert_ticket(conn: AsyncConnection, *, cid: str, channel: str, name: str,
                        phone: str | None, email: str | None, consent_text: str,
                        topic: dict[str, Any], at: dt.datetime, due: dt.datetime,
                        handoff_id: str | None) -> int:
    ticket_id = await next_ticket_id(conn)
    await conn.execute(sa.text(
        "INSERT INTO tickets (id, conversation_id, handoff_id, channel, status, name, phone,"
        " email, consent_text, consent_at, topic, created_at, due_at)"
        " VALUES (:id, :cid, :hid, :ch, 'open', :name, :phone, :email, :consent, :at, :topic,"
        " :at, :due)"),
        {"id": ticket_id, "cid": cid, "hid": handoff_id, "ch": channel, "name": name,
         "phone": phone or None, "email": email or None, "consent": consent_text,
         "at": naive(at), "topic": _json(topic), "due": naive(due)})
    return ticket_id


_TICKET_COLUMNS = ("id, conversation_id, channel, status, name, phone, email, topic, created_at,"
                   " due_at, claimed_by, closed_at, outcome, note")


def _ticket(row: Row[Any], now: dt.datetime) -> Ticket:
    due = as_datetime(row[9])
    return Ticket(id=int(row[0]), conversation_id=row[1], channel=row[2], status=row[3],
                  name=row[4], phone=row[5], email=row[6], topic=_load(row[7]),
                  created_at=as_datetime(row[8]), due_at=due, claimed_by=row[10],
                  closed_at=_maybe_datetime(row[11]), outcome=row[12], note=row[13],
                  overdue=is_overdue(TicketStatus(row[3]), due, naive(now)))


async def ticket(conn: AsyncConnection, ticket_id: int, now: dt.datetime) -> Ticket | None:
    row = (await conn.execute(sa.text(f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = :id"),
                              {"id": ticket_id})).first()
    return None if row is None else _ticket(row, now)


async def tickets(conn: AsyncConnection, now: dt.datetime, *, include_done: bool = False,
                  conversation_id: str | None = None, limit: int = 500) -> list[Ticket]:
    where = ["1 = 1"]
    params: dict[str, Any] = {"n": limit}
    if not include_done:
        where.append("status <> 'done'")
    if conversation_id is not None:
        where.append("conversation_id = :cid")
        params["cid"] = conversation_id
    rows = (await conn.execute(sa.text(
        f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE {' AND '.join(where)}"
        " ORDER BY due_at, id LIMIT :n"), params)).all()
    return [_ticket(r, now) for r in rows]


async def move_ticket(conn: AsyncConnection, ticket_id: int, *, from_status: Iterable[str],
                      set_sql: str, params: dict[str, Any], owner: str | None = None) -> bool:
    allowed = list(from_status)
    names = [f":f{i}" for i in range(len(allowed))]
    values = {**params, "id": ticket_id, **{f"f{i}": s for i, s in enumerate(allowed)}}
    sql = f"UPDATE tickets SET {set_sql} WHERE id = :id AND status IN ({', '.join(names)})"
    if owner is not None:
        sql += " AND (claimed_by = :owner OR claimed_by IS NULL)"
        values["owner"] = owner
    return bool((await conn.execute(sa.text(sql), values)).rowcount == 1)


# -- audit ---------------------------------------------------------------------------------------
async def audit(conn: AsyncConnection, *, at: dt.datetime, actor: str, action: str,
                conversation_id: str | None = None, ticket_id: int | None = None,
                detail: dict[str, Any] | None = None) -> None:
    """Who did what, when. ``detail`` holds codes and numbers, never message texts."""
    await conn.execute(sa.text(
        "INSERT INTO handoff_audit (id, at, actor, action, conversation_id, ticket_id, detail)"
        " VALUES (:id, :at, :actor, :action, :cid, :tid, :detail)"),
        {"id": new_id(), "at": naive(at), "actor": actor, "action": action, "cid": conversation_id,
         "tid": ticket_id, "detail": _json(detail or {})})


async def audit_entries(conn: AsyncConnection, *, conversation_id: str | None = None,
                        limit: int = 200) -> list[AuditEntry]:
    where, params = ("WHERE conversation_id = :cid", {"cid": conversation_id, "n": limit}) \
        if conversation_id else ("", {"n": limit})
    rows = (await conn.execute(sa.text(
        f"SELECT at, actor, action, conversation_id, ticket_id, detail FROM handoff_audit {where}"
        " ORDER BY at DESC, id LIMIT :n"), params)).all()
    return [AuditEntry(as_datetime(r[0]), r[1], r[2], r[3], r[4], _load(r[5]))
            for r in reversed(rows)]


async def display_name(conn: AsyncConnection, username: str) -> str:
    value = (await conn.execute(sa.text(
        "SELECT display_name FROM staff_accounts WHERE username = :u"), {"u": username})).scalar()
    return str(value) if value else username
