"""The widget's and API's deletion (FeedbackStore.delete_conversation) goes through the privacy
module: Rasa's events of the conversation and of its staff-suggestion sender go too."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from bot.feedback import FeedbackStore
from bot.store import Store
from tests.privacy.rasa_tracker import save_events, tracker_url


async def test_deleting_a_conversation_deletes_rasas_copy(store: Store, db_url: str,
                                                          tmp_path: Path) -> None:
    url = tracker_url(db_url, tmp_path)
    now = dt.datetime.now(dt.UTC).timestamp()
    await save_events(url, {"a": now, "a--staff-suggest": now, "b": now})
    await store.append("a", [("citizen", "Ich heiße Anna Schmidt", {})])
    await store.append("b", [("citizen", "Hallo", {})])
    feedback = await FeedbackStore.open(store, tracker_store_url=url)
    assert await feedback.delete_conversation("a")
    assert not await feedback.delete_conversation("a")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        senders = set(conn.execute(sa.text("SELECT DISTINCT sender_id FROM events")).scalars())
    engine.dispose()
    assert senders == {"b"}
    assert [m.text for m in await store.messages("b")] == ["Hallo"]
