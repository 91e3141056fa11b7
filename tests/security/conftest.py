"""Fixtures of the security tests: the real gateway app (SQLite store, every route mounted) with
Rasa unreachable (a closed port: the real failure path, chat answers 503), served on a real
port, and a logged-in staff session for the console's API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.gateway.app import create_app
from bot.handoff.model import StaffRole
from bot.handoff.service import utcnow
from bot.settings import Settings
from bot.staff.accounts import Accounts
from bot.staff.config import StaffConfig
from bot.staff.mount import OPTIONS, Options
from bot.staff.passwords import Passwords
from bot.store import Store
from tests.conftest import free_port

FAST = StaffConfig(argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
PASSWORD = "richtig-langes-passwort"


def gateway_settings(state_dir: Path, **changes: Any) -> Settings:
    return Settings.load(env={}, state_dir=state_dir, rasa_port=free_port(),
                         action_port=free_port(), rasa_timeout=2.0, **changes)


async def add_supervisor(settings: Settings, username: str = "sophie") -> None:
    store = await Store.open(settings.db_url)
    try:
        await Accounts(store.engine).add(username, "Sophie Krause", StaffRole.SUPERVISOR,
                                         Passwords(FAST).hash(PASSWORD), utcnow())
    finally:
        await store.close()


@pytest.fixture
async def gateway(aiohttp_client, tmp_path: Path) -> TestClient:
    """The gateway on a real port (rate limits as configured by default)."""
    app = create_app(gateway_settings(tmp_path))
    app[OPTIONS] = Options(staff=FAST)
    return await aiohttp_client(app)
