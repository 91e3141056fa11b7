"""The cluster's nginx, as `buergerbot cluster` configures it, in front of real aiohttp upstreams:
it keeps its connections to the instances open instead of opening one per request, on the
public balancer (plain requests) and the internal ones, with large bodies (Rasa sends whole
trackers to the action servers) kept in memory, and it still passes a WebSocket upgrade on."""

from __future__ import annotations

import asyncio
import subprocess
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.cluster import nginx
from bot.cluster.layout import ClusterError, ClusterLayout
from bot.settings import Settings
from tests.conftest import free_block, wait_until


class Upstream:
    """A stand-in instance that answers with the size of the body it got and remembers the
    client port of every TCP connection a request came on (nginx's side of the hop)."""

    def __init__(self) -> None:
        self.connections: set[int] = set()
        self.sizes: list[int] = []

    async def echo(self, request: web.Request) -> web.Response:
        self.connections.add(request.transport.get_extra_info("peername")[1])
        body = await request.read()
        self.sizes.append(len(body))
        return web.json_response({"size": len(body)})

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(f"echo {message.data}")
        return ws


@pytest.fixture
async def balanced(tmp_path: Path) -> AsyncIterator[tuple[ClusterLayout, dict[str, Upstream]]]:
    try:
        binary = nginx.binary()
    except ClusterError as err:
        pytest.skip(str(err))
    base = free_block(9)
    layout = ClusterLayout.from_settings(
        Settings.load(env={}, state_dir=tmp_path, gateway_port=base, rasa_port=base + 3,
                      action_port=base + 6), postgres_port=free_block(1),
        redis_port=free_block(1))
    upstreams: dict[str, Upstream] = {}
    runners = []
    # One instance of each kind answers; nginx finds the other one refused and skips it.
    for kind, port in (("gateway", layout.gateway_ports[0]), ("rasa", layout.rasa_ports[0]),
                       ("action", layout.action_ports[0])):
        upstream = upstreams[kind] = Upstream()
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", upstream.echo)
        app.router.add_get("/ws", upstream.socket)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    prefix = tmp_path / "nginx"
    (prefix / "temp").mkdir(parents=True)
    conf = prefix / "nginx.conf"
    conf.write_text(nginx.render_config(layout, prefix=prefix, user=None))
    log = prefix / "nginx.log"
    with log.open("wb") as out:
        process = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf), "-e", "stderr"],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        health = f"{layout.public_url}{nginx.HEALTH_PATH}"
        wait_until(lambda: urllib.request.urlopen(health, timeout=2).status == 200, 20,
                   "nginx answers", proc=process, log=log)
        yield layout, upstreams
    finally:
        process.terminate()
        process.wait(timeout=20)
        for runner in runners:
            await runner.cleanup()


async def test_nginx_reuses_its_connections_to_the_instances(balanced) -> None:
    layout, upstreams = balanced
    tracker_sized = b"x" * (300 * 1024)  # above nginx's default in-memory body buffer (16 KB)
    balancers = (("gateway", f"{layout.public_url}/api/v1/chat"),
                 ("rasa", f"{layout.rasa_lb_url}/webhooks/rest/webhook"),
                 ("action", f"{layout.action_lb_url}/webhook"))
    # One client connection: nginx's worker that holds it serves every request on it, so its
    # kept connection to the instance is reused for each of them.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as client:
        for kind, url in balancers:
            for i in range(6):
                body = tracker_sized if i % 2 else b'{"text": "Hallo"}'
                async with client.post(url, data=body) as resp:
                    assert resp.status == 200, await resp.text()
                    assert (await resp.json())["size"] == len(body)
            upstream = upstreams[kind]
            assert len(upstream.sizes) == 6
            assert len(upstream.connections) == 1, (kind, upstream.connections)


async def test_websocket_upgrade_still_passes_the_public_balancer(balanced) -> None:
    layout, _ = balanced
    async with aiohttp.ClientSession() as client:
        async with client.ws_connect(f"{layout.public_url}/ws") as ws:
            await ws.send_str("Hallo")
            reply = await asyncio.wait_for(ws.receive_str(), timeout=10)
    assert reply == "echo Hallo"
