"""Fixtures shared by tests/handoff and tests/staff: the store on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.handoff.config import HandoffConfig
from bot.handoff.events import EventHub
from bot.handoff.hours import ServiceHours
from bot.handoff.model import Actor, StaffRole
from bot.handoff.presence import Presence
from bot.handoff.service import HandoffService
from bot.store import Store
from tests.handoff.pg import INSTALL_HINT, PgCluster, pg_bin, running_cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    if pg_bin() is None:
        pytest.skip(INSTALL_HINT)
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database()


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    s = await Store.open(db_url)
    yield s
    await s.close()


class FakeClock:
    """Aware UTC time that moves when a test says so (and by 1 µs per reading, so that events
    recorded one after the other keep their order, as with a real clock)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(microseconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class RecordingNotifier:
    """Stands in for the widget's socket hub: records which conversations were told."""

    def __init__(self) -> None:
        self.told: list[str] = []

    def __call__(self, conversation_id: str) -> None:
        self.told.append(conversation_id)


def always_open() -> HandoffConfig:
    return HandoffConfig(hours=ServiceHours.parse("mo-so 00:00-24:00"),
                         require_staff_online=False)


def make_service(store: Store, *, config: HandoffConfig | None = None,
                 clock: FakeClock | None = None,
                 notifier: RecordingNotifier | None = None) -> HandoffService:
    service = HandoffService(store, EventHub(), config or always_open(), Presence(),
                             clock=clock or FakeClock(), notify_citizen=notifier)
    store.add_handoff_listener(service)
    return service


AGENT_A = Actor("anna", "Anna Berger", StaffRole.AGENT)
AGENT_B = Actor("ben", "Ben Yilmaz", StaffRole.AGENT)
BOSS = Actor("sophie", "Sophie Krause", StaffRole.SUPERVISOR)
