"""Several Rasa processes in one instance (``rasa_workers``): the gateway sends each
conversation always to the same one, spreads conversations over all of them, reports one that
is down in /health, and the supervisor starts one child per process."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.gateway.dialogue import DialogueUnavailable, RasaClient
from bot.settings import Settings
from bot.supervisor import stack_specs
from tests.conftest import free_port
from tests.rasa_stand_in import rasa_stand_in


def _worker(name: str) -> web.Application:
    """A Rasa stand-in that answers with its own name and the sender it got."""
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": f"{name}"}])
    return rasa_stand_in(webhook)


async def test_each_conversation_stays_with_one_worker_and_all_are_used() -> None:
    servers = [TestServer(_worker(f"w{i}")) for i in range(3)]
    for server in servers:
        await server.start_server()
    try:
        urls = [str(server.make_url("")) for server in servers]
        async with aiohttp.ClientSession() as session:
            client = RasaClient(session, urls, urls[0], 5.0)
            served: dict[str, str] = {}
            for n in range(60):
                cid = f"citizen-{n}"
                answers = {(await client.send(cid, "Hallo"))[0].text for _ in range(3)}
                assert len(answers) == 1, cid  # always the same worker
                served[cid] = answers.pop()
                assert client.rasa_url_for(cid) == urls[int(served[cid][1])]
            counts = Counter(served.values())
            assert set(counts) == {"w0", "w1", "w2"} and min(counts.values()) >= 10, counts
            # the choice does not depend on the client instance or the process
            again = RasaClient(session, urls, urls[0], 5.0)
            assert all(again.rasa_url_for(cid) == client.rasa_url_for(cid) for cid in served)
    finally:
        for server in servers:
            await server.close()


async def test_a_worker_down_shows_in_health_and_only_its_conversations_fail() -> None:
    up = TestServer(_worker("w0"))
    await up.start_server()
    down_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    try:
        urls = [str(up.make_url("")).rstrip("/"), down_url]
        async with aiohttp.ClientSession() as session:
            client = RasaClient(session, urls, urls[0], 5.0)
            health = await client.check_rasa()
            assert not health.ok and down_url in health.detail and urls[0] not in health.detail
            on_down = next(f"c{n}" for n in range(100) if client.rasa_url_for(f"c{n}") == down_url)
            on_up = next(f"c{n}" for n in range(100) if client.rasa_url_for(f"c{n}") == urls[0])
            assert (await client.send(on_up, "Hallo"))[0].text == "w0"
            with pytest.raises(DialogueUnavailable):
                await client.send(on_down, "Hallo")
            assert (await RasaClient(session, urls[:1], urls[0], 5.0).check_rasa()).ok
    finally:
        await up.close()


def test_the_supervisor_starts_one_rasa_child_per_worker(tmp_path: Path) -> None:
    settings = Settings.load(env={}, state_dir=tmp_path, rasa_port=6100, rasa_workers=2)
    specs = {spec.name: spec for spec in stack_specs(settings, tmp_path / "m.tar.gz", {})}
    assert sorted(specs) == ["action_server", "gateway", "rasa", "rasa-2"]
    for name, port in (("rasa", "6100"), ("rasa-2", "6101")):
        argv = list(specs[name].argv)
        assert argv[argv.index("--port") + 1] == port
        assert specs[name].health_url == f"http://127.0.0.1:{port}/"
    single = stack_specs(Settings.load(env={}, state_dir=tmp_path), tmp_path / "m.tar.gz", {})
    assert [spec.name for spec in single] == ["action_server", "rasa", "gateway"]
