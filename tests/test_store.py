from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.handoff.state import HandoffStatus, IllegalTransition
from bot.store import MIGRATIONS, Store
from tests.handoff.fixtures import db_url, pg_cluster  # noqa: F401 - fixtures


@pytest.fixture
async def store(db_url: str):  # noqa: F811
    """The store on SQLite and on a real PostgreSQL (tests/handoff/fixtures.py)."""
    s = await Store.open(db_url)
    yield s
    await s.close()


async def test_append_numbers_messages_per_conversation(store: Store) -> None:
    assert await store.append("a", [("citizen", "Hallo", {})]) == [1]
    assert await store.append("a", [("bot", "Guten Tag", {"sources": []}),
                                    ("bot", "Wie kann ich helfen?", {})]) == [2, 3]
    assert await store.append("b", [("citizen", "Hi", {})]) == [1]
    texts = [(m.seq, m.role, m.text) for m in await store.messages("a")]
    assert texts == [(1, "citizen", "Hallo"), (2, "bot", "Guten Tag"),
                     (3, "bot", "Wie kann ich helfen?")]


async def test_concurrent_appends_get_distinct_sequence_numbers(store: Store) -> None:
    # "c" is new: every append may find no row yet and create it; "d" exists already.
    await store.append("d", [("citizen", "erste", {})])
    results = await asyncio.gather(*(store.append(cid, [("citizen", f"m{i}", {})])
                                     for i in range(20) for cid in ("c", "d")))
    seqs = sorted(s for r in results[0::2] for s in r)
    assert seqs == list(range(1, 21))
    assert sorted(s for r in results[1::2] for s in r) == list(range(2, 22))
    assert len(await store.messages("c")) == 20
    state = await store.conversation("c")
    assert state is not None and state.last_seq == 20


async def test_handoff_transitions_are_checked(store: Store) -> None:
    await store.append("h", [("citizen", "Ich will einen Menschen", {})])
    assert await store.set_handoff("h", HandoffStatus.QUEUED, {"reason": "explicit_request"}) \
        is HandoffStatus.QUEUED
    with pytest.raises(IllegalTransition):
        await store.set_handoff("h", HandoffStatus.QUEUED)
    state = await store.conversation("h")
    assert state is not None and state.handoff_context == {"reason": "explicit_request"}


async def test_data_survives_reopen_and_migrations_run_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = await Store.open(url)
    await first.append("p", [("citizen", "bleibt", {"x": 1})])
    await first.close()
    second = await Store.open(url)
    assert [m.payload for m in await second.messages("p")] == [{"x": 1}]
    assert await second.migrate() == len(MIGRATIONS)
    await second.close()


async def test_a_connection_left_mid_protocol_is_dropped_not_reused(
        pg_cluster, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """When PostgreSQL dies in the middle of a statement, asyncpg can leave the connection
    waiting for a message that never comes ("another operation is in progress" on every later
    statement; seen in fault runs). The store must report storage-unavailable and drop that
    connection, so the next call works on a fresh one. The broken state is injected at the
    driver's statement call; PostgreSQL and the pool are real."""
    import asyncpg.prepared_stmt
    from asyncpg.exceptions import _base

    from bot.store import STORE_UNAVAILABLE

    store = await Store.open(pg_cluster.create_database())
    try:
        await store.append("p", [("citizen", "Hallo", {})])
        fetch = asyncpg.prepared_stmt.PreparedStatement.fetch
        broken: set[int] = set()

        async def stuck(self, *args, **kwargs):  # the connection that PostgreSQL left behind
            if not broken or id(self._connection) in broken:
                broken.add(id(self._connection))
                raise _base.InternalClientError(
                    "cannot switch to state 12; another operation (2) is in progress")
            return await fetch(self, *args, **kwargs)

        monkeypatch.setattr(asyncpg.prepared_stmt.PreparedStatement, "fetch", stuck)
        with pytest.raises(STORE_UNAVAILABLE):
            await store.conversation("p")
        state = await store.conversation("p")  # a fresh connection, not the stuck one again
        assert state is not None and state.last_seq == 1
    finally:
        await store.close()
