"""SQLite on the event loop's own thread, behind SQLAlchemy's aiosqlite dialect.

aiosqlite gives every connection a thread and runs each call there: a queue hand-over to the
thread and a wake-up of the event loop back, for every cursor, statement, fetch, commit and
rollback — some forty per chat turn, and under load the gateway's largest cost after the HTTP
work itself (measured: 2.5–3 ms of CPU per chat message of the gateway's ≈ 10). A statement on
a local SQLite file takes microseconds, less than the hand-over, so this module runs them
directly on the loop's thread, keeping aiosqlite's API (and with it SQLAlchemy's dialect).

What the thread did besides — wait while another connection or process holds SQLite's write
lock — must not block the loop: the connection's own busy timeout is 0, and a call that finds
the database locked is retried after an asynchronous pause (5 ms doubling to 100 ms) for up to
``busy_timeout`` seconds, then raises SQLite's "database is locked" as before. Retrying is
safe: a call refused with SQLITE_BUSY changed nothing.

Only PostgreSQL is recommended for several gateways; for one gateway process on one file this
is what the thread bought, without the thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator
from functools import partial
from types import SimpleNamespace
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

# What PRAGMA busy_timeout was before (ms); as seconds of asynchronous retries now.
DEFAULT_BUSY_TIMEOUT = 5.0
_FIRST_PAUSE = 0.005
_MAX_PAUSE = 0.1


def _locked(err: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY (another connection writes) or SQLITE_LOCKED, any extended code."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(err)
    return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class LoopConnection(aiosqlite.Connection):
    """aiosqlite's connection whose calls run on the calling (event loop) thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int,
                 busy_timeout: float) -> None:
        super().__init__(connector, iter_chunk_size)  # its thread is never started
        self._busy_timeout = busy_timeout

    def __await__(self) -> Generator[Any, None, LoopConnection]:
        return self._connect().__await__()

    async def _connect(self) -> LoopConnection:
        if self._connection is None:
            self._connection = self._connector()
            self._connection.execute("PRAGMA busy_timeout=0")
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        call = partial(fn, *args, **kwargs)
        deadline = None
        pause = _FIRST_PAUSE
        while True:
            try:
                return call()
            except sqlite3.OperationalError as err:
                if not _locked(err):
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self._busy_timeout
                if now >= deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(2 * pause, _MAX_PAUSE)

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def dbapi(busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> AsyncAdapt_aiosqlite_dbapi:
    """The DB-API module for ``create_async_engine(..., module=dbapi())`` with an
    ``sqlite+aiosqlite`` URL."""

    def connect(database: Any, *, iter_chunk_size: int = 64, **kwargs: Any) -> LoopConnection:
        location = database.decode() if isinstance(database, bytes) else str(database)
        return LoopConnection(lambda: sqlite3.connect(location, **kwargs), iter_chunk_size,
                              busy_timeout)

    module = SimpleNamespace(**{name: getattr(aiosqlite, name) for name in (
        "DatabaseError", "Error", "IntegrityError", "NotSupportedError", "OperationalError",
        "ProgrammingError", "sqlite_version", "sqlite_version_info")}, connect=connect)
    return AsyncAdapt_aiosqlite_dbapi(module, sqlite3)
