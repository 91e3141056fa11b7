"""The gateway while its database is down: a real PostgreSQL killed with SIGKILL, as in a crash.

Every endpoint and the chat socket must answer with the documented, retryable
``storage-unavailable`` (HTTP 503, an error frame) instead of an internal error or a dropped
socket, and work again once PostgreSQL is back. (A fault run under load found the socket's hello
and the history endpoint answering 500 / dying here.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient

from bot.feedback import Rating
from bot.gateway import ws
from bot.gateway.app import create_app
from tests.gateway.test_ws import ANSWER, _settings, rasa, receive  # noqa: F401 - rasa: a fixture
from tests.handoff.pg import PgCluster, killable_cluster


@pytest.fixture
def pg() -> Iterator[PgCluster]:
    """A PostgreSQL of this test's own: it gets killed, so it cannot be the shared one."""
    with killable_cluster() as cluster:
        yield cluster


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, rasa, pg: PgCluster) -> TestClient:  # noqa: F811
    settings = _settings(tmp_path, rasa[1].port, database_url=pg.create_database())
    return await aiohttp_client(create_app(settings))


async def error_of(response) -> dict[str, Any]:
    assert response.status == 503, await response.text()
    return (await response.json())["error"]


async def test_every_path_answers_storage_unavailable_while_postgres_is_down(
        client: TestClient, pg: PgCluster) -> None:
    chat = await client.post("/api/v1/chat", json={"conversation_id": "c1", "text": "Reisepass"})
    assert chat.status == 200
    bound = await client.ws_connect(ws.PATH)  # a tab that was open before the crash
    await bound.send_json(ws.Hello("c1").to_wire())
    assert (await receive(bound))["type"] == "welcome"
    assert (await receive(bound))["type"] == "messages"

    pg.kill(backends=True)  # the whole server at once: no backend answers afterwards

    error = await error_of(await client.post(
        "/api/v1/chat", json={"conversation_id": "c1", "text": "Was kostet das?"}))
    assert error["code"] == "storage-unavailable" and "Datenspeicher" in error["message"]
    error = await error_of(await client.get("/api/v1/conversations/c1/messages"))
    assert error["code"] == "storage-unavailable"

    # A new tab: the hello cannot be served; the client is told why and asked to come back.
    sock = await client.ws_connect(ws.PATH)
    await sock.send_json(ws.Hello("c1").to_wire())
    await sock.send_json(ws.Say("Hallo", "m-1").to_wire())  # sent before the answer came
    frame = await receive(sock)
    assert (frame["type"], frame["code"], frame.get("ref")) == ("error", "storage-unavailable",
                                                               None)
    closing = await sock.receive(timeout=10)
    assert (closing.type, closing.data) == (WSMsgType.CLOSE, WSCloseCode.TRY_AGAIN_LATER)

    # The open tab: a rating cannot be stored; the socket stays open for the next try.
    await bound.send_json(ws.Rate(2, Rating.UP).to_wire())
    frame = await receive(bound)
    assert (frame["type"], frame["code"]) == ("error", "storage-unavailable")
    await bound.send_json(ws.Say("Was kostet das?", "m-2").to_wire())
    frame = await receive(bound)
    while frame["type"] == "typing":
        frame = await receive(bound)
    assert (frame["type"], frame["code"], frame["ref"]) == ("error", "storage-unavailable", "m-2")
    assert not bound.closed

    await asyncio.to_thread(pg.start_again)

    history = await client.get("/api/v1/conversations/c1/messages")
    assert history.status == 200
    texts = [m["text"] for m in (await history.json())["messages"]]
    assert texts[0] == "Reisepass" and "Hallo" not in texts  # the refused frame was not taken
    sock = await client.ws_connect(ws.PATH)
    await sock.send_json(ws.Hello("c1").to_wire())
    assert (await receive(sock))["type"] == "welcome"
    await bound.send_json(ws.Say("Was kostet das?", "m-2").to_wire())  # the same frame again
    while (frame := await receive(bound))["type"] != "messages" or frame.get("ref") != "m-2":
        assert frame["type"] != "error", frame
    assert [(m["role"], m["text"]) for m in frame["messages"]] == [
        ("citizen", "Was kostet das?"), ("bot", ANSWER["custom"]["text"])]
    await sock.close()
    await bound.close()

