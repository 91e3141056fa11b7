"""GET /health/ready of a real gateway: ready, store down (a real PostgreSQL stopped), dialogue
down (a closed port), shutdown begun (in-process, and a real gateway process on SIGTERM that
keeps serving 503 while it drains)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.gateway.app import create_app
from tests.conftest import REPO, free_port
from tests.handoff.pg import INSTALL_HINT, PgCluster, pg_bin, running_cluster
from tests.observability.helpers import gateway_settings

START_TIMEOUT = 60.0


@pytest.fixture
def own_pg() -> Iterator[PgCluster]:
    """A cluster of this test alone (it is stopped during the test)."""
    if pg_bin() is None:
        pytest.skip(INSTALL_HINT)
    with running_cluster() as cluster:
        yield cluster


async def test_ready_when_store_and_dialogue_answer(aiohttp_client, rasa: TestServer,
                                                    tmp_path: Path) -> None:
    client: TestClient = await aiohttp_client(create_app(gateway_settings(tmp_path, rasa.port)))
    resp = await client.get("/health/ready")
    body = await resp.json()
    assert resp.status == 200
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "rasa", "action_server"}  # no redis_url: no check
    assert (await client.get("/health/live")).status == 200


async def test_not_ready_while_the_dialogue_is_down(aiohttp_client, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(gateway_settings(tmp_path, free_port())))
    resp = await client.get("/health/ready")
    body = await resp.json()
    assert resp.status == 503
    assert (body["status"], body["code"]) == ("not_ready", "not-ready")
    assert body["down"] == ["action_server", "rasa"]
    assert body["checks"]["database"] == {"ok": True}
    assert "nicht bereit" in body["message"]
    assert (await client.get("/health/live")).status == 200  # alive, just not ready


async def test_not_ready_when_the_store_goes_down(aiohttp_client, rasa: TestServer,
                                                  own_pg: PgCluster, tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, rasa.port, database_url=own_pg.create_database())
    client = await aiohttp_client(create_app(settings))
    assert (await client.get("/health/ready")).status == 200
    await asyncio.to_thread(own_pg.stop)
    resp = await client.get("/health/ready")
    body = await resp.json()
    assert resp.status == 503
    assert body["down"] == ["database"]
    assert body["checks"]["rasa"] == {"ok": True}
    assert (await client.get("/metrics")).status == 200  # metrics stay readable


async def test_not_ready_once_shutdown_begins(aiohttp_client, rasa: TestServer,
                                              tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(gateway_settings(tmp_path, rasa.port)))
    assert (await client.get("/health/ready")).status == 200
    await client.server.app.shutdown()  # what the runner does first when the process stops
    resp = await client.get("/health/ready")
    body = await resp.json()
    assert resp.status == 503
    assert (body["status"], body["code"]) == ("draining", "shutting-down")
    assert "beendet" in body["message"]


async def _status(session: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with session.get(url) as resp:
        return resp.status, await resp.json()


async def test_gateway_process_drains_on_sigterm(rasa: TestServer, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "BUERGERBOT_STATE_DIR": str(tmp_path), "BUERGERBOT_GATEWAY_PORT": str(port),
           "BUERGERBOT_RASA_PORT": str(rasa.port), "BUERGERBOT_ACTION_PORT": str(rasa.port),
           "BUERGERBOT_SHUTDOWN_DRAIN_SECONDS": "5", "BUERGERBOT_LOG_FORMAT": "json"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.gateway", cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(int(START_TIMEOUT * 10)):
                assert proc.returncode is None, "the gateway exited before it was ready"
                try:
                    if (await _status(session, f"{base}/health/ready"))[0] == 200:
                        break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the gateway did not become ready")
            proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            status, body = await _status(session, f"{base}/health/ready")
            assert (status, body["status"]) == (503, "draining")
            assert (await _status(session, f"{base}/health/live"))[0] == 200  # still serving
        output, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, output.decode()
        assert '"event": "gateway.drain.started"' in output.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
