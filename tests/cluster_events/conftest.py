"""Fixtures of the several-gateways tests: a real Redis (tests/redis_server.py), a real
PostgreSQL database with staff accounts, and gateway apps built on both. The dialogue engine is
unreachable unless a test brings its own stand-in: the handoff paths work without it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.gateway.app import create_app
from bot.handoff.config import HandoffConfig
from bot.handoff.hours import ServiceHours
from bot.settings import Settings
from bot.staff.mount import OPTIONS, Options
from tests.conftest import free_port
from tests.handoff.fixtures import pg_cluster  # noqa: F401
from tests.handoff.pg import PgCluster
from tests.redis_server import RedisServer, running_redis
from tests.staff.conftest import FAST, add_accounts

WAIT = 20.0  # generous: the machine is shared; nothing here measures speed
ALWAYS_OPEN = ServiceHours.parse("mo-so 00:00-24:00")


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
async def pg_url(pg_cluster: PgCluster) -> str:  # noqa: F811
    url = pg_cluster.create_database()
    await add_accounts(url)
    return url


@dataclass
class Cluster:
    """Builds gateway apps that share one PostgreSQL database and one Redis."""

    db_url: str
    redis_url: str
    root: Path
    make_client: Callable[..., Awaitable[TestClient]]
    rasa_port: int = 0

    def app(self, name: str, *, require_staff_online: bool = False,
            **settings: Any) -> web.Application:
        port = self.rasa_port or free_port()  # nobody listens there unless a test says so
        values = {"state_dir": self.root / name, "database_url": self.db_url,
                  "redis_url": self.redis_url, "rasa_port": port, "action_port": port,
                  "rasa_timeout": 3.0, **settings}
        config = Settings.load(env={}, **values)
        app = create_app(config)
        app[OPTIONS] = Options(staff=FAST, handoff=HandoffConfig(
            hours=ALWAYS_OPEN, require_staff_online=require_staff_online))
        return app

    async def start(self, name: str, **kwargs: Any) -> TestClient:
        return await self.make_client(self.app(name, **kwargs))

    async def browser(self, client: TestClient) -> TestClient:
        """Another browser (own cookie jar) on the same gateway."""
        return await self.make_client(client.server)


@pytest.fixture
async def cluster(pg_url: str, redis: RedisServer, tmp_path: Path,
                  aiohttp_client: Callable[..., Awaitable[TestClient]]) -> AsyncIterator[Cluster]:
    yield Cluster(pg_url, redis.url, tmp_path, aiohttp_client)


async def frame(ws: Any, kind: str, where: Callable[[dict[str, Any]], bool] = lambda _f: True,
                timeout: float = WAIT) -> dict[str, Any]:
    """The next frame of ``kind`` satisfying ``where``, skipping others."""
    deadline = time.monotonic() + timeout
    while True:
        data = await ws.receive_json(timeout=max(0.1, deadline - time.monotonic()))
        if data["type"] == kind and where(data):
            return dict(data)


async def eventually(check: Callable[[], Awaitable[bool]], what: str,
                     timeout: float = WAIT) -> None:
    """Wait until ``check()`` is true (state that settles through Redis), else fail."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)
