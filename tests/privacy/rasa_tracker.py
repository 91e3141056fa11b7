"""Rasa's own SQL tracker store, filled the way the running Rasa server fills it."""

from __future__ import annotations

from sqlalchemy.engine import make_url


async def save_events(url: str, trackers: dict[str, float]) -> None:
    """For each sender id, a user message and a bot answer stamped ``trackers[sender]``
    (seconds since the epoch), written by ``rasa.core.tracker_store.SQLTrackerStore``."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=parsed.database)
    else:
        store = SQLTrackerStore(Domain.empty(), dialect="postgresql", host=parsed.host,
                                port=parsed.port, db=parsed.database, username=parsed.username,
                                password=parsed.password)
    try:
        for sender, stamp in trackers.items():
            tracker = DialogueStateTracker.from_events(sender, [
                UserUttered("Ich heiße Anna Schmidt", timestamp=stamp),
                BotUttered("Guten Tag!", timestamp=stamp + 1)])
            await store.save(tracker)
    finally:
        store.engine.dispose()


def tracker_url(db_url: str, tmp_path: object) -> str:
    """A tracker store beside the gateway's database: its own SQLite file, or the same
    PostgreSQL database (Rasa's ``events`` table next to ours, as a small deployment has it)."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/rasa-tracker.db"
    return db_url
