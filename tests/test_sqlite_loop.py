"""SQLite on the event loop's thread (bot/sqlite_loop.py): no thread per connection, and a
database locked by someone else is waited for without blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import sqlite_loop
from bot.store import Store


@pytest.fixture
async def file_store(tmp_path: Path):
    s = await Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield s
    await s.close()


async def test_statements_run_on_the_loop_thread(file_store: Store) -> None:
    seen: set[int] = set()

    def trace(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn._connection._connection.set_trace_callback(
            lambda _sql: seen.add(threading.get_ident()))

    await file_store.engine.dispose()  # new connections from here on, traced
    sa.event.listen(file_store.engine.sync_engine, "connect", trace)
    threads = threading.active_count()
    await asyncio.gather(*(file_store.append(f"t{i % 3}", [("citizen", f"m{i}", {})])
                           for i in range(30)))
    assert seen == {threading.get_ident()}
    assert threading.active_count() == threads  # no connection thread was started
    assert [m.seq for m in await file_store.messages("t0")] == list(range(1, 11))


def _hold_write_lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process takes SQLite's write lock, says so, and keeps it for ``seconds``."""
    code = (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "c.execute(\"UPDATE conversations SET updated_at = updated_at\")\n"
        "print('locked', flush=True)\n"
        f"time.sleep({seconds})\n"
        "c.execute('COMMIT')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    proc.stdout.close()
    assert line == "locked"
    return proc


async def test_a_locked_database_is_waited_for_without_blocking_the_loop(
        file_store: Store, tmp_path: Path) -> None:
    await file_store.append("w", [("citizen", "vorher", {})])
    holder = _hold_write_lock(tmp_path / "db.sqlite", 0.6)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    try:
        assert await file_store.append("w", [("citizen", "nachher", {})]) == [2]
    finally:
        task.cancel()
        holder.wait(10)
    waited = time.monotonic() - started
    assert waited >= 0.3  # it really waited for the other process' lock ...
    assert ticks >= 10  # ... while the loop went on serving others
    assert [m.text for m in await file_store.messages("w")] == ["vorher", "nachher"]


async def test_a_lock_never_released_ends_in_sqlites_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    first = await Store.open(f"sqlite:///{path}")
    await first.append("x", [("citizen", "eins", {})])
    await first.close()
    engine_module = sqlite_loop.dbapi(busy_timeout=0.3)
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", module=engine_module)
    holder = _hold_write_lock(path, 3.0)
    try:
        started = time.monotonic()
        with pytest.raises(Exception) as caught:
            async with engine.begin() as conn:
                await conn.exec_driver_sql("UPDATE conversations SET last_seq = last_seq")
        assert "database is locked" in str(caught.value)
        assert 0.3 <= time.monotonic() - started < 2.5
    finally:
        holder.kill()
        holder.wait(10)
        await engine.dispose()


def test_only_lock_errors_are_retried() -> None:
    con = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.OperationalError) as caught:
        con.execute("SELECT * FROM missing")
    assert not sqlite_loop._locked(caught.value)
