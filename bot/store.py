"""Conversations and their messages in SQL (SQLite by default, PostgreSQL through a DSN).

SQLAlchemy Core with asyncio drivers (aiosqlite, asyncpg). The schema is versioned: each entry
of ``MIGRATIONS`` runs once, in order, recorded in ``schema_version``.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from bot import sqlite_loop
from bot.handoff.state import HandoffStatus, transition

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE conversations (
            id VARCHAR(64) PRIMARY KEY,
            channel VARCHAR(16) NOT NULL,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            last_seq INTEGER NOT NULL DEFAULT 0,
            handoff_status VARCHAR(32) NOT NULL DEFAULT 'bot',
            handoff_context TEXT
        )""",
        """CREATE TABLE messages (
            conversation_id VARCHAR(64) NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role VARCHAR(16) NOT NULL,
            text TEXT NOT NULL,
            payload TEXT,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (conversation_id, seq)
        )""",
    ),
    # 2: human handoff — episodes, callback tickets, callback forms, audit log, staff accounts,
    # sessions and login failures (bot/handoff, bot/staff).
    (
        "ALTER TABLE conversations ADD COLUMN assigned_to VARCHAR(64)",
        "CREATE INDEX ix_conversations_handoff ON conversations (handoff_status)",
        """CREATE TABLE handoffs (
            id VARCHAR(40) PRIMARY KEY,
            conversation_id VARCHAR(64) NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            channel VARCHAR(16) NOT NULL,
            reason VARCHAR(64) NOT NULL,
            context TEXT,
            queued_seq INTEGER NOT NULL,
            queued_at TIMESTAMP NOT NULL,
            claimed_at TIMESTAMP,
            claimed_by VARCHAR(64),
            ended_at TIMESTAMP,
            ended_by VARCHAR(64),
            end_status VARCHAR(32),
            outcome VARCHAR(32),
            rating_asked_at TIMESTAMP,
            rating INTEGER
        )""",
        "CREATE INDEX ix_handoffs_conversation ON handoffs (conversation_id, ended_at)",
        "CREATE INDEX ix_handoffs_queued_at ON handoffs (queued_at)",
        """INSERT INTO handoffs (id, conversation_id, channel, reason, context, queued_seq,
                                 queued_at)
           SELECT 'm2-' || id, id, channel, 'unknown', handoff_context, last_seq, updated_at
           FROM conversations WHERE handoff_status IN ('queued', 'assigned')""",
        "UPDATE conversations SET handoff_status = 'queued' WHERE handoff_status = 'assigned'",
        """CREATE TABLE tickets (
            id INTEGER PRIMARY KEY,
            conversation_id VARCHAR(64) NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            handoff_id VARCHAR(40),
            channel VARCHAR(16) NOT NULL,
            status VARCHAR(16) NOT NULL,
            name TEXT NOT NULL,
            phone VARCHAR(64),
            email VARCHAR(254),
            consent_text TEXT NOT NULL,
            consent_at TIMESTAMP NOT NULL,
            topic TEXT,
            created_at TIMESTAMP NOT NULL,
            due_at TIMESTAMP NOT NULL,
            claimed_by VARCHAR(64),
            claimed_at TIMESTAMP,
            closed_by VARCHAR(64),
            closed_at TIMESTAMP,
            outcome VARCHAR(32),
            note TEXT
        )""",
        "CREATE INDEX ix_tickets_status ON tickets (status, due_at)",
        "CREATE TABLE counters (name VARCHAR(32) PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO counters (name, value) VALUES ('ticket', 0)",
        """CREATE TABLE callback_forms (
            conversation_id VARCHAR(64) PRIMARY KEY
                REFERENCES conversations(id) ON DELETE CASCADE,
            data TEXT NOT NULL,
            updated_at TIMESTAMP NOT NULL
        )""",
        """CREATE TABLE handoff_audit (
            id VARCHAR(40) PRIMARY KEY,
            at TIMESTAMP NOT NULL,
            actor VARCHAR(64) NOT NULL,
            action VARCHAR(32) NOT NULL,
            conversation_id VARCHAR(64),
            ticket_id INTEGER,
            detail TEXT
        )""",
        "CREATE INDEX ix_handoff_audit_conversation ON handoff_audit (conversation_id, at)",
        "CREATE INDEX ix_handoff_audit_at ON handoff_audit (at)",
        """CREATE TABLE staff_accounts (
            username VARCHAR(64) PRIMARY KEY,
            display_name VARCHAR(100) NOT NULL,
            role VARCHAR(16) NOT NULL,
            password_hash TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL,
            password_changed_at TIMESTAMP NOT NULL
        )""",
        """CREATE TABLE staff_sessions (
            token_hash VARCHAR(64) PRIMARY KEY,
            username VARCHAR(64) NOT NULL REFERENCES staff_accounts(username) ON DELETE CASCADE,
            csrf_token VARCHAR(64) NOT NULL,
            created_at TIMESTAMP NOT NULL,
            last_seen TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL
        )""",
        "CREATE INDEX ix_staff_sessions_username ON staff_sessions (username)",
        """CREATE TABLE staff_login_failures (
            username VARCHAR(64) PRIMARY KEY,
            failures INTEGER NOT NULL,
            locked_until TIMESTAMP,
            last_failure TIMESTAMP NOT NULL
        )""",
    ),
    # 3: idempotent retries — a citizen message may carry the client's own id (``message_id``
    # of the chat API, ``ref`` of the socket); stored at most once per conversation, and the
    # turn it started is remembered with its answer (see :meth:`Store.claim_turn`).
    (
        "ALTER TABLE messages ADD COLUMN client_id VARCHAR(64)",
        "CREATE UNIQUE INDEX ux_messages_client_id ON messages (conversation_id, client_id)",
        """CREATE TABLE client_turns (
            conversation_id VARCHAR(64) NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            client_id VARCHAR(64) NOT NULL,
            seq INTEGER NOT NULL,
            status VARCHAR(16) NOT NULL,
            attempt INTEGER NOT NULL,
            result TEXT,
            updated_at TIMESTAMP NOT NULL,
            PRIMARY KEY (conversation_id, client_id)
        )""",
    ),
)


# What a store call raises while the database is unreachable (down, restarting, connection
# lost): SQLAlchemy wraps most driver errors, but asyncpg's errors while connecting arrive raw.
# asyncpg's InternalClientError: a connection left mid-protocol when PostgreSQL died under it
# (see _drop_broken_connections); the store drops that connection, a retry gets a fresh one.
STORE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa.exc.DBAPIError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
    asyncpg.exceptions._base.InternalClientError)


def _drop_broken_connections(context: Any) -> None:
    """SQLAlchemy ``handle_error`` hook (PostgreSQL): when PostgreSQL dies in the middle of a
    statement, asyncpg can leave that connection waiting for a message that never comes, and
    every later statement on it fails with "another operation is in progress" — an error
    SQLAlchemy does not know as a disconnect, so the connection went back to the pool and failed
    again and again. Marked as a disconnect, the pool drops it (and, as after any disconnect,
    its other connections)."""
    if isinstance(context.original_exception, asyncpg.exceptions._base.InternalClientError):
        context.is_disconnect = True


def async_url(url: str) -> str:
    """Map a plain SQLAlchemy URL to its asyncio driver."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


# Connections a gateway process keeps open to PostgreSQL. At most this many, none opened beyond
# it: a turn waits for a free connection instead (SQLAlchemy's pool_timeout, 30 s), so two
# gateways and the Rasa servers' few stay inside PostgreSQL's default max_connections (100).
PG_POOL_SIZE = 32
PG_POOL_OVERFLOW = 0


@dataclass(frozen=True, slots=True)
class StoredMessage:
    seq: int
    role: str  # citizen | bot | staff | system
    text: str
    payload: dict[str, Any]
    created_at: dt.datetime
    client_id: str | None = None  # the client's message id of a citizen message, if it sent one

    def to_api(self) -> dict[str, Any]:
        data = {
            "seq": self.seq,
            "role": self.role,
            "text": self.text,
            "sources": self.payload.get("sources", []),
            "buttons": self.payload.get("buttons", []),
            "created_at": self.created_at.replace(tzinfo=dt.UTC).isoformat(),
        }
        if self.client_id is not None:
            data["message_id"] = self.client_id
        return data


class TurnStatus(enum.StrEnum):
    """Where the turn started by a citizen message with a client id stands."""

    RUNNING = "running"  # a gateway is working on it (or died doing so: see the lease)
    DONE = "done"  # answered; ``result`` is the answer the client got
    FAILED = "failed"  # the dialogue engine was unavailable; the message is stored, unanswered


@dataclass(frozen=True, slots=True)
class ClientTurn:
    """A citizen message sent with the client's own id, and the turn it started."""

    conversation_id: str
    client_id: str
    seq: int  # of the stored citizen message
    text: str  # the stored citizen message
    status: TurnStatus
    attempt: int  # bumped by every claim; only the current attempt may finish the turn
    result: dict[str, Any] | None  # the chat API answer, once DONE
    claimed: bool  # True: the caller now owns this attempt and must finish or fail it
    created: bool  # True: the citizen message was stored by this call
    # The conversation when the turn was claimed (before its citizen message), read in the
    # claiming transaction; None from client_turn().
    state: ConversationState | None = None


@dataclass(frozen=True, slots=True)
class HandoffChange:
    """One move of a conversation's handoff state through :meth:`Store.set_handoff`."""

    conversation_id: str
    previous: HandoffStatus
    current: HandoffStatus
    context: dict[str, Any] | None
    channel: str
    last_seq: int
    at: dt.datetime  # naive UTC, like every timestamp in the store


class HandoffListener(Protocol):
    """Told of every :meth:`Store.set_handoff` move: inside its transaction (to write related
    rows atomically) and after the commit (to publish events)."""

    async def in_transaction(self, conn: AsyncConnection, change: HandoffChange) -> None: ...

    def committed(self, change: HandoffChange) -> None: ...


@dataclass(frozen=True, slots=True)
class ConversationState:
    id: str
    handoff_status: HandoffStatus
    handoff_context: dict[str, Any] | None
    last_seq: int
    # The callback form in progress (bot/handoff/callback.py), read with the rest so that a
    # chat turn needs no read of its own for it.
    callback_form: dict[str, Any] | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        # Reads, too, run in (implicit) transactions. Tried and dropped: AUTOCOMMIT reads on
        # PostgreSQL save the BEGIN/ROLLBACK round trips (0.3 ms of gateway CPU for two reads),
        # but they also skip the ROLLBACK on return, which is what notices a connection broken
        # by a crash; the first fault run with them showed such a connection being reused.
        self._engine = engine
        self._handoff_listeners: list[HandoffListener] = []

    @property
    def engine(self) -> AsyncEngine:
        """The shared pool, for modules that own tables of their own (handoff, staff)."""
        return self._engine

    def add_handoff_listener(self, listener: HandoffListener) -> None:
        self._handoff_listeners.append(listener)

    @classmethod
    async def open(cls, url: str) -> Store:
        full = async_url(url)
        options: dict[str, Any] = {}
        if full.startswith("sqlite"):
            # Statements run on the event loop's thread, not one thread per connection
            # (bot/sqlite_loop.py).
            options["module"] = sqlite_loop.dbapi()
            if ":memory:" not in full:
                # SQLAlchemy 1.4 gives aiosqlite a NullPool: a new connection (the pragmas,
                # the schema read) for every transaction. A pool of WAL connections is safe
                # for one file; the pool size bounds transactions open at once.
                options.update(poolclass=AsyncAdaptedQueuePool, pool_size=8, max_overflow=8)
        else:
            # SQLAlchemy's default keeps 5 connections and closes any other one when it is
            # returned: under load a burst of turns then opened and closed a PostgreSQL
            # connection (a backend process, a SCRAM login on both sides, the statements
            # prepared again) every 13 messages. Kept open instead: PG_POOL_SIZE.
            options.update(pool_size=PG_POOL_SIZE, max_overflow=PG_POOL_OVERFLOW)
        # hide_parameters: a failing statement's error message must not carry citizens' texts
        # into logs (see docs/PRIVACY.md).
        engine = create_async_engine(full, hide_parameters=True, **options)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        elif engine.dialect.name == "postgresql":
            sa.event.listen(engine.sync_engine, "handle_error", _drop_broken_connections)
        store = cls(engine)
        await store.migrate()
        return store

    async def close(self) -> None:
        await self._engine.dispose()

    async def migrate(self) -> int:
        async with self._engine.begin() as conn:
            await conn.execute(sa.text(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))
            current = (await conn.execute(
                sa.text("SELECT MAX(version) FROM schema_version"))).scalar() or 0
            for version, statements in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                for statement in statements:
                    await conn.execute(sa.text(statement))
                await conn.execute(sa.text("INSERT INTO schema_version VALUES (:v)"), {"v": version})
            return len(MIGRATIONS)

    async def ping(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.begin() as conn:
            yield conn

    async def conversation(self, conversation_id: str) -> ConversationState | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(_STATE, {"id": conversation_id, "client": None})).first()
        return _state(conversation_id, row)

    async def append(
        self,
        conversation_id: str,
        items: list[tuple[str, str, dict[str, Any]]],
        *,
        channel: str = "web",
    ) -> list[int]:
        """Append ``(role, text, payload)`` messages atomically; return their sequence numbers."""
        async with self._tx() as conn:
            return await self._append(conn, conversation_id, items, channel)

    @staticmethod
    async def _append(conn: AsyncConnection, conversation_id: str,
                      items: list[tuple[str, str, dict[str, Any]]], channel: str,
                      client_id: str | None = None) -> list[int]:
        now = _now()
        # Bumping last_seq first takes the row lock (PostgreSQL) or the write lock (SQLite),
        # so concurrent appends to one conversation get distinct, gap-free numbers. The row
        # exists for all but a conversation's first message: create it only when the bump
        # finds none (one statement instead of two on every later append).
        values = {"n": len(items), "now": now, "id": conversation_id}
        row = (await conn.execute(_BUMP, values)).first()
        if row is None:
            await Store._ensure(conn, conversation_id, channel, now)
            row = (await conn.execute(_BUMP, values)).first()
        assert row is not None
        first = row[0] - len(items) + 1
        seqs = list(range(first, row[0] + 1))
        if items:
            await conn.execute(_INSERT_MESSAGES, [{"cid": conversation_id, "seq": s, "role": role, "text": text,
                  "payload": json.dumps(payload, ensure_ascii=False), "now": now,
                  "client": client_id if i == 0 else None}
                 for i, (s, (role, text, payload)) in enumerate(zip(seqs, items, strict=True))])
        return seqs

    # -- citizen messages with the client's own id (idempotent retries) ------------------------
    async def claim_turn(self, conversation_id: str, client_id: str, text: str, *,
                         channel: str = "web", lease: float = 30.0) -> ClientTurn:
        """Store the citizen message ``client_id`` once and claim its turn, or find it again.

        The first call stores the message and returns it claimed (``RUNNING``). A repeat gets the
        stored turn: ``DONE`` with the answer given; ``FAILED`` claimed again (the dialogue runs
        once more for the stored message); ``RUNNING`` claimed again only when the attempt has
        not moved for ``lease`` seconds (its gateway died), else unclaimed (still running
        elsewhere). The unique constraint on (conversation, client id) decides races between
        processes; the loser of an insert race reads the winner's row.
        """
        for _ in range(3):
            try:
                async with self._tx() as conn:
                    # Write first: on SQLite this takes the write lock before the read, so a
                    # concurrent writer cannot invalidate what we read (SQLITE_BUSY_SNAPSHOT).
                    await self._ensure(conn, conversation_id, channel, _now())
                    row = (await conn.execute(_STATE, {"id": conversation_id,
                                                       "client": client_id})).first()
                    state = _state(conversation_id, row)
                    turn = _turn_row(conversation_id, client_id, row[4:] if row else None)
                    if turn is None:
                        (seq,) = await self._append(conn, conversation_id,
                                                    [("citizen", text, {})], channel, client_id)
                        await conn.execute(_INSERT_TURN, {"cid": conversation_id, "client": client_id, "seq": seq,
                             "st": TurnStatus.RUNNING.value, "now": _now()})
                        return ClientTurn(conversation_id, client_id, seq, text,
                                          TurnStatus.RUNNING, 1, None, claimed=True, created=True,
                                          state=state)
                    stale = _now() - dt.timedelta(seconds=lease)
                    if turn.status is TurnStatus.DONE or (
                            turn.status is TurnStatus.RUNNING and turn.updated_at > stale):
                        return turn.view(claimed=False, state=state)
                    # Failed, or abandoned by a dead gateway: take it over (compare and set).
                    result = await conn.execute(sa.text(
                        "UPDATE client_turns SET status = :running, attempt = attempt + 1,"
                        " updated_at = :now WHERE conversation_id = :cid AND client_id = :client"
                        " AND attempt = :attempt"),
                        {"running": TurnStatus.RUNNING.value, "now": _now(),
                         "cid": conversation_id, "client": client_id, "attempt": turn.attempt})
                    claimed = result.rowcount == 1
                    return turn.view(claimed=claimed, status=TurnStatus.RUNNING,
                                     attempt=turn.attempt + 1 if claimed else turn.attempt,
                                     state=state)
            except sa.exc.IntegrityError:
                continue  # another process stored it first: read its row
        raise RuntimeError(f"could not claim client message {client_id!r}")

    async def client_turn(self, conversation_id: str, client_id: str) -> ClientTurn | None:
        """The stored turn of a client message, unclaimed (for waiting on another attempt)."""
        async with self._engine.connect() as conn:
            turn = await self._find_turn(conn, conversation_id, client_id)
        return turn.view(claimed=False) if turn else None

    async def finish_turn(self, turn: ClientTurn, items: list[tuple[str, str, dict[str, Any]]],
                          result: dict[str, Any], *, channel: str = "web") -> bool:
        """Store the answer of a claimed turn and mark it done, atomically. False (and nothing
        stored) when another attempt took the turn over meanwhile."""
        async with self._tx() as conn:
            done = await conn.execute(_FINISH_TURN, {"done": TurnStatus.DONE.value, "result": json.dumps(result, ensure_ascii=False),
                 "now": _now(), "cid": turn.conversation_id, "client": turn.client_id,
                 "attempt": turn.attempt, "running": TurnStatus.RUNNING.value})
            if done.rowcount != 1:
                return False
            await self._append(conn, turn.conversation_id, items, channel)
            return True

    async def fail_turn(self, turn: ClientTurn) -> None:
        """The claimed attempt could not be answered; a repeat of the message may try again."""
        async with self._tx() as conn:
            await conn.execute(sa.text(
                "UPDATE client_turns SET status = :failed, updated_at = :now"
                " WHERE conversation_id = :cid AND client_id = :client AND attempt = :attempt"
                " AND status = :running"),
                {"failed": TurnStatus.FAILED.value, "now": _now(), "cid": turn.conversation_id,
                 "client": turn.client_id, "attempt": turn.attempt,
                 "running": TurnStatus.RUNNING.value})

    @staticmethod
    async def _find_turn(conn: AsyncConnection, conversation_id: str,
                         client_id: str) -> _TurnRow | None:
        row = (await conn.execute(_FIND_TURN, {"cid": conversation_id,
                                               "client": client_id})).first()
        return _turn_row(conversation_id, client_id, row)

    async def messages(self, conversation_id: str, after: int = 0,
                       limit: int = 500) -> list[StoredMessage]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.text(
                "SELECT seq, role, text, payload, created_at, client_id FROM messages"
                " WHERE conversation_id = :id AND seq > :after ORDER BY seq LIMIT :limit"),
                {"id": conversation_id, "after": after, "limit": limit})).all()
        return [StoredMessage(seq=r[0], role=r[1], text=r[2],
                              payload=json.loads(r[3]) if r[3] else {},
                              created_at=_as_datetime(r[4]), client_id=r[5]) for r in rows]

    async def set_handoff(self, conversation_id: str, target: HandoffStatus,
                          context: dict[str, Any] | None = None) -> HandoffStatus:
        """Move the conversation's handoff state; raise IllegalTransition on a forbidden move."""
        async with self._tx() as conn:
            await self._ensure(conn, conversation_id, "web", _now())
            row = (await conn.execute(sa.text(
                "SELECT handoff_status, channel, last_seq FROM conversations WHERE id = :id"),
                {"id": conversation_id})).first()
            assert row is not None
            new = transition(HandoffStatus(row[0]), target)
            now = _now()
            await conn.execute(sa.text(
                "UPDATE conversations SET handoff_status = :s, handoff_context ="
                " COALESCE(:ctx, handoff_context), updated_at = :now WHERE id = :id"),
                {"s": new.value, "ctx": json.dumps(context, ensure_ascii=False) if context else None,
                 "now": now, "id": conversation_id})
            change = HandoffChange(conversation_id, HandoffStatus(row[0]), new, context, row[1],
                                   row[2], now)
            for listener in self._handoff_listeners:
                await listener.in_transaction(conn, change)
        for listener in self._handoff_listeners:
            listener.committed(change)
        return new

    @staticmethod
    async def _ensure(conn: AsyncConnection, conversation_id: str, channel: str,
                      now: dt.datetime) -> None:
        await conn.execute(_ENSURE, {"id": conversation_id, "ch": channel, "now": now})


@dataclass(frozen=True, slots=True)
class _TurnRow:
    conversation_id: str
    client_id: str
    seq: int
    text: str
    status: TurnStatus
    attempt: int
    result: dict[str, Any] | None
    updated_at: dt.datetime

    def view(self, *, claimed: bool, status: TurnStatus | None = None,
             attempt: int | None = None, state: ConversationState | None = None) -> ClientTurn:
        return ClientTurn(self.conversation_id, self.client_id, self.seq, self.text,
                          status or self.status, attempt or self.attempt, self.result,
                          claimed=claimed, created=False, state=state)


# The statements of every chat turn, built once (sa.text parses its text on every call).
_BUMP = sa.text("UPDATE conversations SET last_seq = last_seq + :n, updated_at = :now"
                " WHERE id = :id RETURNING last_seq")
_INSERT_MESSAGES = sa.text(
    "INSERT INTO messages (conversation_id, seq, role, text, payload, created_at, client_id)"
    " VALUES (:cid, :seq, :role, :text, :payload, :now, :client)")
_INSERT_TURN = sa.text(
    "INSERT INTO client_turns (conversation_id, client_id, seq, status, attempt, updated_at)"
    " VALUES (:cid, :client, :seq, :st, 1, :now)")
_FINISH_TURN = sa.text(
    "UPDATE client_turns SET status = :done, result = :result, updated_at = :now"
    " WHERE conversation_id = :cid AND client_id = :client AND attempt = :attempt"
    " AND status = :running")
_ENSURE = sa.text("INSERT INTO conversations (id, channel, created_at, updated_at)"
                  " VALUES (:id, :ch, :now, :now) ON CONFLICT (id) DO NOTHING")
# A conversation's state and callback form, and with ``:client`` the turn of that client
# message (columns 4-9, all NULL when there is none): one statement at the start of a turn.
_STATE = sa.text(
    "SELECT c.handoff_status, c.handoff_context, c.last_seq, f.data,"
    " t.seq, m.text, t.status, t.attempt, t.result, t.updated_at"
    " FROM conversations c"
    " LEFT JOIN callback_forms f ON f.conversation_id = c.id"
    " LEFT JOIN client_turns t ON t.conversation_id = c.id AND t.client_id = :client"
    " LEFT JOIN messages m ON m.conversation_id = t.conversation_id AND m.seq = t.seq"
    " WHERE c.id = :id")
_FIND_TURN = sa.text(
    "SELECT t.seq, m.text, t.status, t.attempt, t.result, t.updated_at"
    " FROM client_turns t JOIN messages m"
    " ON m.conversation_id = t.conversation_id AND m.seq = t.seq"
    " WHERE t.conversation_id = :cid AND t.client_id = :client")


def _state(conversation_id: str, row: Any) -> ConversationState | None:
    if row is None:
        return None
    form = json.loads(row[3]) if row[3] else None
    return ConversationState(
        id=conversation_id, handoff_status=HandoffStatus(row[0]),
        handoff_context=json.loads(row[1]) if row[1] else None, last_seq=row[2],
        callback_form=(form if isinstance(form, dict) else {}) if row[3] else None)


def _turn_row(conversation_id: str, client_id: str, row: Any) -> _TurnRow | None:
    """``row``: seq, text, status, attempt, result, updated_at of a stored client turn."""
    if row is None or row[0] is None:
        return None
    return _TurnRow(conversation_id, client_id, row[0], row[1], TurnStatus(row[2]), row[3],
                    json.loads(row[4]) if row[4] else None, _as_datetime(row[5]))


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # No busy_timeout: a locked database is waited for asynchronously (bot/sqlite_loop.py).
    cursor.close()
