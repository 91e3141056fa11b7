"""PostgreSQL and Redis as the cluster runs them (its own specs, under the real supervisor), and
Rasa 3.6's own SQL tracker store and Redis lock store built from the endpoints.yml we generate:
what one Rasa instance saves, a second one reads; a lock taken by one is seen by the other."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from bot.cluster import postgres, redis
from bot.cluster.layout import ClusterError, ClusterLayout
from bot.cluster.run import child_settings
from bot.settings import Settings
from bot.supervisor import Supervisor, write_rasa_endpoints
from tests.cluster.conftest import pid_alive
from tests.conftest import free_block

pytestmark = pytest.mark.filterwarnings("ignore")  # Rasa and SQLAlchemy 1.4 warn on import


def _layout(state_dir: Path) -> ClusterLayout:
    base = free_block(9)
    settings = Settings.load(env={}, state_dir=state_dir, gateway_port=base,
                             rasa_port=base + 3, action_port=base + 6)
    return ClusterLayout.from_settings(settings, postgres_port=free_block(1),
                                       redis_port=free_block(1))


def _skip_without_packages() -> None:
    try:
        postgres.bindir()
        redis.binary()
    except ClusterError as err:
        pytest.skip(str(err))


async def _start(layout: ClusterLayout, run_dir: Path) -> Supervisor:
    supervisor = Supervisor([postgres.spec(layout), redis.spec(layout)], run_dir,
                            progress=lambda _: None)
    await supervisor.start(timeout=60)
    return supervisor


async def test_rasa_instances_share_trackers_and_locks_through_the_cluster_databases(
        state_dir: Path) -> None:
    _skip_without_packages()
    from rasa.core.lock_store import LockError, LockStore
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import read_endpoint_config

    layout = _layout(state_dir)
    postgres.ensure_initialised(layout, lambda _: None)
    password = layout.secret("postgres")
    settings = Settings.load(env={}, state_dir=state_dir)
    shared = child_settings(settings, layout, layout.postgres_url(password),
                            layout.redis_url(layout.secret("redis")))
    write_rasa_endpoints(shared)
    endpoints = shared.run_dir / "endpoints.yml"
    assert stat.S_IMODE(endpoints.stat().st_mode) == 0o600  # it holds passwords
    config = yaml.safe_load(endpoints.read_text())
    assert config["action_endpoint"]["url"] == f"{layout.action_lb_url}/webhook"
    assert config["tracker_store"]["password"] == password

    run_dir = shared.run_dir
    supervisor = await _start(layout, run_dir)
    pids = [c.process.pid for c in supervisor.children if c.process]
    try:
        status = json.loads((run_dir / "supervisor.json").read_text())["children"]
        assert {n: (c["port"], c["state"]) for n, c in status.items()} == {
            "postgres": (layout.postgres_port, "healthy"), "redis": (layout.redis_port, "healthy")}

        # Two "Rasa instances": each builds its stores from the same endpoints.yml.
        def stores() -> tuple[TrackerStore, LockStore]:
            tracker_cfg = read_endpoint_config(str(endpoints), "tracker_store")
            lock_cfg = read_endpoint_config(str(endpoints), "lock_store")
            return TrackerStore.create(tracker_cfg), LockStore.create(lock_cfg)

        (trackers_a, locks_a), (trackers_b, locks_b) = stores(), stores()
        assert type(locks_a).__name__ == "RedisMutexLockStore"
        tracker = DialogueStateTracker.from_events("citizen-1", [UserUttered("Reisepass")])
        await trackers_a.save(tracker)
        again = await trackers_b.retrieve("citizen-1")
        assert again is not None and again.latest_message.text == "Reisepass"

        async with locks_a.lock("citizen-1"):  # one lock, seen by both
            with pytest.raises(LockError):
                async with locks_b.lock("citizen-1", lock_lifetime=0.2,
                                        wait_time_in_seconds=0.05):
                    pytest.fail("both Rasa instances held one conversation's lock")
        async with locks_b.lock("citizen-1"):  # free again
            pass
    finally:
        await supervisor.stop()
    assert not any(pid_alive(p) for p in pids)

    # Data survive a restart; the data directory is not initialised again.
    postgres.ensure_initialised(layout, lambda _: pytest.fail("initialised twice"))
    supervisor = await _start(layout, run_dir)
    try:
        trackers = TrackerStore.create(read_endpoint_config(str(endpoints), "tracker_store"))
        kept = await trackers.retrieve("citizen-1")
        assert kept is not None and kept.latest_message.text == "Reisepass"
    finally:
        await supervisor.stop()
    log = (run_dir / "postgres.log").read_text()
    assert log.count("database system is shut down") == 2  # clean (fast) shutdowns
    if os.geteuid() == 0:
        assert (layout.postgres_dir / "data").stat().st_uid != 0  # the postgres user owns it
