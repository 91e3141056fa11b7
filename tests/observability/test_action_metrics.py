"""GET /metrics of the action server: rasa_sdk's real Sanic app in its own process, with the
measured retriever's decisions and latencies; forbidden through a proxy or from elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import REPO, free_port
from tests.observability.helpers import parse, value

START_TIMEOUT = 120.0


@contextlib.asynccontextmanager
async def _serve(cidrs: str) -> AsyncIterator[str]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.observability.action_server_app", str(port), cidrs,
        cwd=REPO, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(int(START_TIMEOUT * 10)):
                assert proc.returncode is None, "the action server app exited"
                try:
                    async with session.get(f"{base}/health") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the action server app did not start")
        yield base
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@pytest.fixture
async def loopback_server() -> AsyncIterator[str]:
    async with _serve("127.0.0.1/32,::1/128") as base:
        yield base


async def test_decisions_and_retrieval_latency(loopback_server: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{loopback_server}/metrics") as resp:
            assert resp.status == 200
            samples = parse(await resp.text())
        assert value(samples, "buergerbot_retrieval_decisions_total", kind="answer") == 2
        assert value(samples, "buergerbot_retrieval_decisions_total", kind="clarify") == 1
        assert value(samples, "buergerbot_retrieval_decisions_total", kind="abstain") == 1
        assert value(samples, "buergerbot_retrieval_duration_seconds_count") == 4
        async with session.get(f"{loopback_server}/metrics",
                               headers={"X-Forwarded-For": "203.0.113.7"}) as resp:
            assert resp.status == 403
            body = await resp.json()
        assert body["error"]["code"] == "metrics-forbidden"


async def test_forbidden_from_a_network_not_allowed() -> None:
    async with (_serve("10.0.0.0/8") as base, aiohttp.ClientSession() as session,
                session.get(f"{base}/metrics") as resp):
        assert resp.status == 403
        assert "metrics_allow" in (await resp.json())["error"]["message"]
