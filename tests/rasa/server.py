"""A real Rasa server (``python -m bot.rasa_run run``, as the supervisor starts it) for tests
that need Rasa itself, with the endpoints and credentials our code generates from ``settings``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from aiohttp import web

from bot.gateway.app import create_app
from bot.settings import Settings
from bot.supervisor import write_rasa_endpoints
from bot.training import rasa_env
from tests.conftest import REPO, terminate, wait_until


@contextmanager
def running_rasa(settings: Settings, model: Path, log: Path) -> Iterator[None]:
    """Rasa on ``settings.rasa_port`` with ``model``, its output in ``log``; stopped at the end."""
    write_rasa_endpoints(settings)
    argv = [sys.executable, "-m", "bot.rasa_run", "run", "--model", str(model),
            "--endpoints", str(settings.run_dir / "endpoints.yml"),
            "--credentials", str(settings.run_dir / "credentials.yml"),
            "--port", str(settings.rasa_port), "--interface", "127.0.0.1"]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**rasa_env(settings), "PYTHONUNBUFFERED": "1"})
    try:
        wait_until(lambda: requests.get(f"{settings.rasa_url}/", timeout=2).ok, 300,
                   "Rasa to come up", proc, log)
        yield
    finally:
        terminate(proc, 30)


async def gateway_in_front(rasa_url: str, aiohttp_client: Any, aiohttp_server: Any,
                           state_dir: Path) -> Any:
    """The gateway app (a test client) in front of ``rasa_url``, with a healthy stand-in action
    server: an empty answer from Rasa then passes for a deliberately silent bot."""
    actions = web.Application()
    actions.router.add_get("/health", _healthy)
    action_server = await aiohttp_server(actions)
    return await aiohttp_client(create_app(Settings.load(
        env={}, state_dir=state_dir, rasa_endpoint=rasa_url,
        action_endpoint=f"http://127.0.0.1:{action_server.port}", rasa_timeout=20.0)))


async def _healthy(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
