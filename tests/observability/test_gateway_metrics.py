"""GET /metrics of a real gateway (SQLite store, chat service, staff part) in front of a Rasa
stand-in on a real port: requests, turns by outcome, dialogue latency, rate limits, sockets,
handoffs, containment counters, and who may read it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.gateway import keys
from bot.gateway.app import create_app
from bot.handoff.model import Actor, StaffRole
from bot.handoff.state import HandoffStatus
from bot.staff.keys import CONSOLE
from tests.observability.helpers import (
    gateway_settings,
    scrape,
    total,
    value,
)

MESSAGES_ROUTE = "/api/v1/conversations/{conversation_id}/messages"


@pytest.fixture
async def client(aiohttp_client, rasa: TestServer, tmp_path: Path) -> TestClient:
    return await aiohttp_client(create_app(gateway_settings(tmp_path, rasa.port)))


async def _chat(client: TestClient, cid: str, text: str) -> web.Response:
    return await client.post("/api/v1/chat", json={"conversation_id": cid, "text": text})


async def test_requests_turns_and_dialogue_latency_are_counted(client: TestClient) -> None:
    before = await scrape(client)
    for cid, text in [("c-1", "Hallo"), ("c-1", "Was kostet ein Ausweis?"),
                      ("c-2", "Ich brauche einen Pass"), ("c-2", "Drachen zähmen"),
                      ("c-3", "Ausweis")]:
        assert (await _chat(client, cid, text)).status == 200
    # A client's repeat of a first message (same message id) is answered from the store: the
    # conversation started once (both requests count as turns, the repeat from the store).
    repeat = {"conversation_id": "c-4", "text": "Hallo", "message_id": "m-1"}
    for _ in range(2):
        assert (await client.post("/api/v1/chat", json=repeat)).status == 200
    assert (await client.post("/api/v1/chat", json={"conversation_id": "c-1"})).status == 400
    assert (await client.get("/api/v1/conversations/c-1/messages")).status == 200
    assert (await client.get("/api/v1/conversations/unbekannt/messages")).status == 404
    assert (await client.get("/gibt/es/nicht/c-1")).status == 404
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "buergerbot_http_requests_total"
    assert moved(requests, route="/api/v1/chat", method="POST", status="200") == 7
    assert moved(requests, route="/api/v1/chat", method="POST", status="400") == 1
    assert moved(requests, route=MESSAGES_ROUTE, method="GET", status="200") == 1
    assert moved(requests, route=MESSAGES_ROUTE, method="GET", status="404") == 1
    assert moved(requests, route="unmatched", method="GET", status="404") == 1
    assert moved("buergerbot_http_request_duration_seconds_count",
                 route="/api/v1/chat", method="POST") == 8
    turns = "buergerbot_chat_turns_total"
    assert moved(turns, channel="web", outcome="other") == 3
    assert moved(turns, channel="web", outcome="answered") == 2
    assert moved(turns, channel="web", outcome="clarify") == 1
    assert moved(turns, channel="web", outcome="abstain") == 1
    assert moved("buergerbot_conversations_started_total", channel="web") == 4
    assert moved("buergerbot_dialogue_request_duration_seconds_count", result="ok") == 6
    # No conversation id, text or address in any label.
    labels = " ".join(v for _name, ls in after for _k, v in ls)
    assert "c-1" not in labels and "unbekannt" not in labels and "127.0.0.1" not in labels


async def test_dialogue_down_counts_an_error_turn(aiohttp_client, tmp_path: Path) -> None:
    from tests.conftest import free_port

    client = await aiohttp_client(create_app(gateway_settings(tmp_path, free_port())))
    before = await scrape(client)
    assert (await _chat(client, "c-9", "Hallo")).status == 503
    after = await scrape(client)
    turns = ("buergerbot_chat_turns_total", {"channel": "web", "outcome": "error"})
    assert value(after, turns[0], **turns[1]) - value(before, turns[0], **turns[1]) == 1
    assert value(after, "buergerbot_dialogue_request_duration_seconds_count", result="error") == 1
    assert value(after, "buergerbot_http_requests_total", route="/api/v1/chat", method="POST",
                 status="503") == 1


async def test_rate_limit_rejections_are_counted(aiohttp_client, rasa: TestServer,
                                                 tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, rasa.port, rate_limit_conversation_per_minute=1)
    client = await aiohttp_client(create_app(settings))
    assert (await _chat(client, "c-5", "Hallo")).status == 200
    assert (await _chat(client, "c-5", "Hallo")).status == 429
    samples = await scrape(client)
    assert value(samples, "buergerbot_rate_limited_total", channel="web",
                 limit="rate-limited") == 1


async def test_socket_rate_limit_rejections_are_counted(aiohttp_client, rasa: TestServer,
                                                        tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, rasa.port, rate_limit_conversation_per_minute=1)
    client = await aiohttp_client(create_app(settings))
    async with client.ws_connect("/api/v1/ws") as sock:
        await sock.send_json({"type": "hello", "conversation_id": "w-9", "after": 0})
        for ref in ("r1", "r2"):
            await sock.send_json({"type": "message", "ref": ref, "text": "Hallo"})
        while True:
            frame = json.loads((await sock.receive(timeout=10)).data)
            if frame["type"] == "error":
                assert frame["code"] == "rate-limited" and frame["ref"] == "r2"
                break
    samples = await scrape(client)
    assert value(samples, "buergerbot_rate_limited_total", channel="ws",
                 limit="rate-limited") == 1


async def test_socket_turns_and_open_sockets(client: TestClient) -> None:
    async with client.ws_connect("/api/v1/ws") as sock:
        await sock.send_json({"type": "hello", "conversation_id": "w-1", "after": 0})
        await sock.send_json({"type": "message", "ref": "r1", "text": "Ausweis bitte"})
        while True:  # welcome, typing, messages (the citizen's), messages (the answer) ...
            frame = json.loads((await sock.receive()).data)
            if frame["type"] == "messages" and any(m.get("sources") for m in frame["messages"]):
                break
        samples = await scrape(client)
        assert value(samples, "buergerbot_websockets_open", kind="chat") == 1
        assert value(samples, "buergerbot_chat_turns_total", channel="ws",
                     outcome="answered") == 1
        assert value(samples, "buergerbot_conversations_started_total", channel="web") == 1
    # The socket's HTTP request is counted once its handler ends (status 101), without a
    # latency sample; the handler finishes just after the client closed.
    for _ in range(100):
        samples = await scrape(client)
        if value(samples, "buergerbot_websockets_open", kind="chat") == 0:
            break
        await asyncio.sleep(0.05)
    assert value(samples, "buergerbot_http_requests_total", route="/api/v1/ws", method="GET",
                 status="101") == 1
    assert value(samples, "buergerbot_http_request_duration_seconds_count",
                 route="/api/v1/ws", method="GET") == 0


async def test_handoffs_queue_length_and_containment(client: TestClient) -> None:
    app = client.server.app
    store, service = app[keys.STORE], app[CONSOLE].handoff
    agent = Actor("anna", "Anna Berger", StaffRole.AGENT)
    for cid in ("h-1", "h-2", "h-3"):
        assert (await _chat(client, cid, "Hallo")).status == 200
        await store.set_handoff(cid, HandoffStatus.QUEUED, {"reason": "complaint"})
    samples = await scrape(client)
    assert value(samples, "buergerbot_handoff_queue_length", status="queued") == 3
    assert await service.claim("h-1", agent)
    await service.close("h-1", agent, "resolved")
    assert await service.claim("h-2", agent)
    await service.release("h-2", agent, "bot")
    assert await service.cancel_waiting("h-3")
    assert (await _chat(client, "h-4", "Hallo")).status == 200  # contained: no person needed
    samples = await scrape(client)
    events = "buergerbot_handoff_events_total"
    assert value(samples, events, event="queued", outcome="") == 3
    assert value(samples, events, event="assigned", outcome="") == 2
    assert value(samples, events, event="closed", outcome="resolved") == 1
    assert value(samples, events, event="returned_to_bot", outcome="") == 1
    assert value(samples, events, event="abandoned", outcome="") == 1
    assert value(samples, "buergerbot_handoff_queue_length", status="queued") == 0
    assert value(samples, "buergerbot_handoff_queue_length", status="assigned") == 0
    started = total(samples, "buergerbot_conversations_started_total")
    escalated = total(samples, "buergerbot_conversations_escalated_total")
    assert (started, escalated) == (4, 3)
    assert 1 - escalated / started == 0.25  # the containment rate of docs/OBSERVABILITY.md


@pytest.mark.parametrize("headers", [{"X-Forwarded-For": "203.0.113.7"},
                                     {"Forwarded": "for=203.0.113.7"}])
async def test_metrics_through_a_proxy_are_forbidden(client: TestClient,
                                                     headers: dict[str, str]) -> None:
    resp = await client.get("/metrics", headers=headers)
    body = await resp.json()
    assert resp.status == 403
    assert body["error"]["code"] == "metrics-forbidden"
    assert "metrics_allow" in body["error"]["message"]


async def test_metrics_from_a_network_not_allowed_are_forbidden(aiohttp_client, rasa: TestServer,
                                                                tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, rasa.port, metrics_allow=("10.0.0.0/8",))
    client = await aiohttp_client(create_app(settings))
    resp = await client.get("/metrics")
    assert resp.status == 403
    assert (await resp.json())["error"]["message"].startswith("Die Messwerte sind nur")
    assert (await client.get("/health/live")).status == 200
