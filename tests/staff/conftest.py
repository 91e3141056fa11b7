"""Fixtures of the console tests: the real gateway app (store on SQLite or PostgreSQL), a fake
Rasa on a real port, fast argon2 parameters, staff accounts, logged-in clients."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.gateway.app import create_app
from bot.handoff.config import HandoffConfig
from bot.handoff.hours import ServiceHours
from bot.handoff.model import StaffRole
from bot.handoff.service import utcnow
from bot.settings import Settings
from bot.staff.accounts import Accounts
from bot.staff.config import StaffConfig
from bot.staff.mount import OPTIONS, Options
from bot.staff.passwords import Passwords
from bot.store import Store
from tests.handoff.fixtures import FakeClock, db_url, pg_cluster  # noqa: F401
from tests.staff.fake_rasa import fake_rasa_app

FAST = StaffConfig(argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
OPEN = HandoffConfig(hours=ServiceHours.parse("mo-so 00:00-24:00"), require_staff_online=False)
PASSWORD = "richtig-langes-passwort"
ACCOUNTS = {"anna": ("Anna Berger", StaffRole.AGENT), "ben": ("Ben Yilmaz", StaffRole.AGENT),
            "sophie": ("Sophie Krause", StaffRole.SUPERVISOR)}


async def add_accounts(url: str) -> None:
    store = await Store.open(url)
    passwords = Passwords(FAST)
    try:
        for username, (name, role) in ACCOUNTS.items():
            await Accounts(store.engine).add(username, name, role, passwords.hash(PASSWORD),
                                             utcnow())
    finally:
        await store.close()


@pytest.fixture
async def rasa(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> TestServer:
    return await aiohttp_server(fake_rasa_app())


@dataclass
class Gateway:
    """Builds gateway apps on one database (a second app = a restart)."""

    url: str
    state_dir: Path
    rasa_port: int
    make_client: Callable[..., Awaitable[TestClient]]
    clock: FakeClock

    transfers: list[tuple[str, str]] = field(default_factory=list)

    async def _transfer(self, call_id: str, target: str) -> bool:
        self.transfers.append((call_id, target))
        return True

    def app(self, handoff: HandoffConfig = OPEN, staff: StaffConfig = FAST) -> web.Application:
        settings = Settings.load(env={}, state_dir=self.state_dir, database_url=self.url,
                                 rasa_port=self.rasa_port, action_port=self.rasa_port,
                                 rasa_timeout=5.0)
        app = create_app(settings)
        app[OPTIONS] = Options(staff=staff, handoff=handoff, clock=self.clock,
                               transfer=self._transfer)
        return app

    async def start(self, **kwargs: Any) -> TestClient:
        return await self.make_client(self.app(**kwargs))

    async def another_client(self, client: TestClient) -> TestClient:
        """A second browser on the same server (own cookie jar)."""
        return await self.make_client(client.server)


@pytest.fixture
async def gateway(db_url: str, tmp_path: Path, rasa: TestServer,  # noqa: F811
                  aiohttp_client: Callable[..., Awaitable[TestClient]]) -> Gateway:
    await add_accounts(db_url)
    return Gateway(db_url, tmp_path, rasa.port, aiohttp_client, FakeClock())


async def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    resp = await client.post("/staff/api/login", json={"username": username,
                                                       "password": password})
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["csrf_token"])
