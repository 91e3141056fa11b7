"""Idempotent retries: a citizen message sent with the client's ``message_id`` (the socket's
``ref``) is stored once and answered once, however often it arrives, on SQLite and PostgreSQL.

The store, the gateway app and its HTTP server are real; Rasa is a recording stand-in speaking
Rasa's REST webhook on a local port (it counts how often the dialogue ran). Two apps on one
database stand for two gateway processes of the cluster.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.gateway.app import create_app
from bot.settings import Settings
from bot.store import Store, TurnStatus
from tests.conftest import free_port
from tests.rasa_stand_in import rasa_stand_in


class Dialogue:
    """Rasa's REST webhook and the action server's /health; records every message, can be made
    slow (``gate``: each answer waits for it) or down (HTTP 500, as a crashing Rasa)."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.down = False
        self.gate: asyncio.Event | None = None

    def app(self) -> web.Application:
        async def webhook(request: web.Request) -> web.Response:
            body = await request.json()
            if self.down:
                return web.Response(status=500)
            self.received.append(body["message"])
            if self.gate is not None:
                await self.gate.wait()
            return web.json_response([{"text": f"Antwort auf: {body['message']}"}])

        return rasa_stand_in(webhook)


@pytest.fixture
async def dialogue(aiohttp_server) -> tuple[Dialogue, int]:
    stand_in = Dialogue()
    server = await aiohttp_server(stand_in.app(), port=free_port())
    return stand_in, server.port


def _settings(tmp_path: Path, db_url: str, port: int) -> Settings:
    return Settings.load(env={}, state_dir=tmp_path, database_url=db_url, rasa_port=port,
                         action_port=port, rasa_timeout=5.0,
                         rate_limit_client_per_minute=100_000,
                         rate_limit_conversation_per_minute=100_000)


@pytest.fixture
async def gateways(aiohttp_client, tmp_path: Path, db_url: str,
                   dialogue: tuple[Dialogue, int]) -> tuple[TestClient, TestClient]:
    """Two gateway processes' worth of apps on one database and one dialogue engine."""
    port = dialogue[1]
    first = await aiohttp_client(create_app(_settings(tmp_path, db_url, port)))
    second = await aiohttp_client(create_app(_settings(tmp_path, db_url, port)))
    return first, second


async def _chat(client: TestClient, text: str, message_id: str | None,
                cid: str = "c1") -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"conversation_id": cid, "text": text}
    if message_id is not None:
        body["message_id"] = message_id
    resp = await client.post("/api/v1/chat", json=body)
    return resp.status, await resp.json()


async def _history(client: TestClient, cid: str = "c1") -> list[tuple[str, str, str | None]]:
    body = await (await client.get(f"/api/v1/conversations/{cid}/messages")).json()
    return [(m["role"], m["text"], m.get("message_id")) for m in body["messages"]]


# -- the store ------------------------------------------------------------------------------------
async def test_claim_stores_once_and_a_repeat_gets_the_answer(store: Store) -> None:
    first = await store.claim_turn("c1", "m-1", "Reisepass?")
    assert (first.claimed, first.created, first.status, first.seq) == (
        True, True, TurnStatus.RUNNING, 1)
    running = await store.claim_turn("c1", "m-1", "Reisepass?")
    assert (running.claimed, running.created, running.status) == (False, False, TurnStatus.RUNNING)
    assert await store.finish_turn(first, [("bot", "Im Bürgerbüro.", {})], {"answer": 1})
    repeat = await store.claim_turn("c1", "m-1", "Reisepass?")
    assert (repeat.claimed, repeat.status, repeat.result) == (False, TurnStatus.DONE,
                                                              {"answer": 1})
    stored = await store.messages("c1")
    assert [(m.seq, m.role, m.client_id) for m in stored] == [
        (1, "citizen", "m-1"), (2, "bot", None)]
    assert stored[0].to_api()["message_id"] == "m-1"
    assert "message_id" not in stored[1].to_api()


async def test_a_failed_turn_is_claimed_again_and_only_the_current_attempt_may_finish(
        store: Store) -> None:
    first = await store.claim_turn("c1", "m-1", "Reisepass?")
    await store.fail_turn(first)
    again = await store.claim_turn("c1", "m-1", "Reisepass?")
    assert (again.claimed, again.created, again.attempt, again.seq) == (True, False, 2, 1)
    assert not await store.finish_turn(first, [("bot", "veraltet", {})], {"stale": True})
    assert await store.finish_turn(again, [("bot", "Im Bürgerbüro.", {})], {"answer": 2})
    assert [m.text for m in await store.messages("c1")] == ["Reisepass?", "Im Bürgerbüro."]


async def test_an_abandoned_attempt_is_taken_over_after_its_lease(store: Store) -> None:
    dead = await store.claim_turn("c1", "m-1", "Reisepass?")  # its gateway dies now
    assert not (await store.claim_turn("c1", "m-1", "Reisepass?", lease=60)).claimed
    survivor = await store.claim_turn("c1", "m-1", "Reisepass?", lease=0)
    assert survivor.claimed and survivor.attempt == dead.attempt + 1
    assert await store.finish_turn(survivor, [("bot", "Antwort", {})], {"ok": True})
    assert not await store.finish_turn(dead, [("bot", "Antwort", {})], {"ok": True})
    assert [m.role for m in await store.messages("c1")] == ["citizen", "bot"]


async def test_the_same_id_in_another_conversation_is_another_message(store: Store) -> None:
    a = await store.claim_turn("c1", "m-1", "Hallo")
    b = await store.claim_turn("c2", "m-1", "Hallo")
    assert a.created and b.created
    assert len(await store.messages("c1")) == len(await store.messages("c2")) == 1


async def test_concurrent_claims_from_two_processes_store_one_message(db_url: str) -> None:
    # Two engines, two pools: as two gateway processes on one database.
    stores = [await Store.open(db_url) for _ in range(2)]
    try:
        await stores[0].append("c1", [])  # the conversation exists, as it does in a load run
        claims = await asyncio.gather(*(
            stores[i % 2].claim_turn("c1", "m-1", "Reisepass?") for i in range(6)))
        assert sum(c.claimed for c in claims) == 1
        assert sum(c.created for c in claims) == 1
        assert {c.seq for c in claims} == {1}
        assert [m.client_id for m in await stores[0].messages("c1")] == ["m-1"]
    finally:
        for s in stores:
            await s.close()


# -- the chat API -----------------------------------------------------------------------------------
async def test_a_repeat_is_answered_from_the_store(gateways, dialogue) -> None:
    client, _ = gateways
    rasa, _port = dialogue
    first = await _chat(client, "Was kostet ein Reisepass?", "msg-1")
    again = await _chat(client, "Was kostet ein Reisepass?", "msg-1")
    assert first[0] == again[0] == 200
    assert first[1] == again[1]
    assert first[1]["messages"][0]["text"] == "Antwort auf: Was kostet ein Reisepass?"
    assert rasa.received == ["Was kostet ein Reisepass?"]
    assert await _history(client) == [
        ("citizen", "Was kostet ein Reisepass?", "msg-1"),
        ("bot", "Antwort auf: Was kostet ein Reisepass?", None)]


async def test_without_message_id_every_request_is_a_new_message(gateways, dialogue) -> None:
    client, _ = gateways
    for _ in range(2):
        assert (await _chat(client, "Hallo", None))[0] == 200
    assert [role for role, _text, _id in await _history(client)] == [
        "citizen", "bot", "citizen", "bot"]
    assert len(dialogue[0].received) == 2


async def test_two_concurrent_requests_with_the_same_id_in_one_gateway(gateways,
                                                                        dialogue) -> None:
    client, _ = gateways
    rasa, _port = dialogue
    rasa.gate = asyncio.Event()
    requests = [asyncio.create_task(_chat(client, "Reisepass?", "same")) for _ in range(2)]
    while not rasa.received:
        await asyncio.sleep(0.01)
    rasa.gate.set()
    (s1, b1), (s2, b2) = await asyncio.gather(*requests)
    assert (s1, s2) == (200, 200) and b1 == b2
    assert rasa.received == ["Reisepass?"]
    assert [r for r, _t, _i in await _history(client)] == ["citizen", "bot"]


async def test_a_repeat_in_another_gateway_waits_for_the_running_attempt(gateways,
                                                                          dialogue) -> None:
    first_gw, second_gw = gateways
    rasa, _port = dialogue
    rasa.gate = asyncio.Event()
    first = asyncio.create_task(_chat(first_gw, "Reisepass?", "m-7"))
    while not rasa.received:
        await asyncio.sleep(0.01)
    repeat = asyncio.create_task(_chat(second_gw, "Reisepass?", "m-7"))
    await asyncio.sleep(0.5)  # the repeat is waiting for the first attempt, not running its own
    assert not repeat.done() and rasa.received == ["Reisepass?"]
    rasa.gate.set()
    (s1, b1), (s2, b2) = await asyncio.gather(first, repeat)
    assert (s1, s2) == (200, 200) and b1 == b2
    assert rasa.received == ["Reisepass?"]
    assert [r for r, _t, _i in await _history(second_gw)] == ["citizen", "bot"]


async def test_a_retry_after_503_runs_the_dialogue_for_the_stored_message(gateways,
                                                                         dialogue) -> None:
    client, _ = gateways
    rasa, _port = dialogue
    rasa.down = True
    status, body = await _chat(client, "Hundesteuer?", "m-2")
    assert (status, body["error"]["code"]) == (503, "dialogue-unavailable")
    assert await _history(client) == [("citizen", "Hundesteuer?", "m-2")]
    rasa.down = False
    status, body = await _chat(client, "Hundesteuer?", "m-2")
    assert status == 200 and body["messages"][0]["text"] == "Antwort auf: Hundesteuer?"
    assert await _history(client) == [("citizen", "Hundesteuer?", "m-2"),
                                      ("bot", "Antwort auf: Hundesteuer?", None)]


async def test_the_same_id_for_another_text_is_refused(gateways) -> None:
    client, _ = gateways
    assert (await _chat(client, "Reisepass?", "m-3"))[0] == 200
    status, body = await _chat(client, "Personalausweis?", "m-3")
    assert (status, body["error"]["code"]) == (409, "message-id-reused")
    assert "message_id" in body["error"]["message"]
    assert len(await _history(client)) == 2


@pytest.mark.parametrize("bad", ["", "a" * 65, "mit leerzeichen", "ä", 7, ["x"]])
async def test_invalid_message_ids(gateways, bad: object) -> None:
    client, _ = gateways
    resp = await client.post("/api/v1/chat",
                             json={"conversation_id": "c1", "text": "Hallo", "message_id": bad})
    body = await resp.json()
    assert (resp.status, body["error"]["code"]) == (400, "invalid-message-id")


# -- the chat socket --------------------------------------------------------------------------------
async def test_a_resent_socket_frame_is_stored_and_answered_once(gateways, dialogue) -> None:
    client, _ = gateways
    rasa, _port = dialogue
    for _attempt in range(2):  # the frame, then the same frame again after a reconnect
        async with client.ws_connect("/api/v1/ws") as sock:
            await sock.send_json({"type": "hello", "conversation_id": "c1", "after": 0})
            frames = [json.loads((await sock.receive()).data) for _ in range(2)]
            assert [f["type"] for f in frames] == ["welcome", "messages"]
            await sock.send_json({"type": "message", "text": "Reisepass?", "ref": "r1-abc"})
            while (frame := json.loads((await sock.receive()).data))["type"] != "messages":
                assert frame["type"] == "typing"
            assert frame["ref"] == "r1-abc"
    assert rasa.received == ["Reisepass?"]
    assert await _history(client) == [("citizen", "Reisepass?", "r1-abc"),
                                      ("bot", "Antwort auf: Reisepass?", None)]


async def test_a_ref_outside_message_id_syntax_keeps_the_old_behaviour(gateways,
                                                                      dialogue) -> None:
    client, _ = gateways
    async with client.ws_connect("/api/v1/ws") as sock:
        await sock.send_json({"type": "hello", "conversation_id": "c1", "after": 0})
        for _ in range(2):
            await sock.receive()
        for _ in range(2):
            await sock.send_json({"type": "message", "text": "Hallo", "ref": "ref mit leer"})
            while (frame := json.loads((await sock.receive()).data))["type"] != "messages" \
                    or frame["ref"] is None:
                pass
    assert [r for r, _t, i in await _history(client) if i is None] == [
        "citizen", "bot", "citizen", "bot"]
