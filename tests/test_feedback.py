from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.feedback import FeedbackStore, Rating
from bot.store import Store


@pytest.fixture
async def stores(tmp_path: Path):
    store = await Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    feedback = await FeedbackStore.open(store)
    yield store, feedback
    await store.close()


async def test_only_bot_answers_can_be_rated_and_a_rating_can_change(stores) -> None:
    store, feedback = stores
    await store.append("a", [("citizen", "Reisepass?", {}), ("bot", "Im Bürgerbüro.", {})])
    assert await feedback.rate("a", 2, Rating.UP)
    assert await feedback.rate("a", 2, Rating.DOWN)
    assert not await feedback.rate("a", 1, Rating.UP)  # the citizen's own message
    assert not await feedback.rate("a", 9, Rating.UP)
    assert not await feedback.rate("nobody", 1, Rating.UP)
    assert await feedback.ratings("a") == {2: Rating.DOWN}
    assert await feedback.totals() == {Rating.DOWN: 1}


async def test_delete_removes_messages_and_ratings(stores) -> None:
    store, feedback = stores
    await store.append("a", [("citizen", "Hallo", {}), ("bot", "Guten Tag", {})])
    await store.append("b", [("citizen", "bleibt", {})])
    await feedback.rate("a", 2, Rating.UP)
    assert await feedback.delete_conversation("a")
    assert not await feedback.delete_conversation("a")
    assert await store.conversation("a") is None
    assert await store.messages("a") == []
    assert await feedback.ratings("a") == {}
    assert [m.text for m in await store.messages("b")] == ["bleibt"]
    # The id can start afresh.
    assert await store.append("a", [("citizen", "neu", {})]) == [1]


async def test_purge_deletes_only_old_conversations(stores) -> None:
    store, feedback = stores
    await store.append("old", [("citizen", "alt", {})])
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert await feedback.purge(dt.timedelta(days=30), now=now) == 0
    assert await feedback.purge(dt.timedelta(days=30), now=now + dt.timedelta(days=31)) == 1
    assert await store.conversation("old") is None


async def test_schema_creation_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = await Store.open(url)
    await store.append("a", [("bot", "x", {})])
    await (await FeedbackStore.open(store)).rate("a", 1, Rating.UP)
    again = await FeedbackStore.open(store)
    assert await again.ratings("a") == {1: Rating.UP}
    await store.close()
