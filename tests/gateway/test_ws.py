"""The chat WebSocket: wire types, protocol, pub/sub, limits, and the Rasa-down error frame.

The gateway runs for real (ChatService, SQLite store). Rasa is either a closed port (the real
failure) or, where a test needs answers, a recording stand-in that speaks Rasa's REST webhook on
a local port; the whole stack with real Rasa is driven by the browser tests in tests/web/.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from bot.feedback import Rating
from bot.gateway import keys, ws
from bot.gateway.app import create_app
from bot.handoff.state import HandoffStatus
from bot.settings import Settings
from tests.conftest import free_port

ANSWER = {"custom": {
    "text": "Einen Reisepass beantragen Sie persönlich im Bürgerbüro.",
    "sources": [{"service_id": "reisepass", "title": "Reisepass – Bürgerbüro",
                 "url": "https://stadt.example/reisepass"}],
    "buttons": [{"title": "Gebühren", "payload": "/fees"}]}}


class RasaStandIn:
    """Answers Rasa's REST webhook with canned messages and records what it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answer: list[dict[str, Any]] = [ANSWER]

    def app(self) -> web.Application:
        async def webhook(request: web.Request) -> web.Response:
            self.received.append(await request.json())
            return web.json_response(self.answer)

        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", webhook)
        return app


Connect = Callable[..., Awaitable[Any]]


@pytest.fixture
def frozen_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate limits whose clock stands still, so bursts are exact and nothing depends on time."""
    original = ws.Limits.default.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(ws.Limits, "default",
                        classmethod(lambda cls, clock=None, **kw: original(cls, clock=lambda: 0.0, **kw)))


@pytest.fixture
async def rasa(aiohttp_server) -> tuple[RasaStandIn, TestServer]:
    stand_in = RasaStandIn()
    return stand_in, await aiohttp_server(stand_in.app())


def _settings(tmp_path: Path, rasa_port: int, **changes: Any) -> Settings:
    return Settings.load(env={}, state_dir=tmp_path, rasa_port=rasa_port,
                         action_port=free_port(), rasa_timeout=3.0, **changes)


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, rasa) -> TestClient:
    return await aiohttp_client(create_app(_settings(tmp_path, rasa[1].port)))


@pytest.fixture
async def client_rasa_down(aiohttp_client, tmp_path: Path) -> TestClient:
    return await aiohttp_client(create_app(_settings(tmp_path, free_port())))


async def receive(sock) -> dict[str, Any]:
    msg = await sock.receive(timeout=10)
    assert msg.type is WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def hello(client: TestClient, conversation_id: str = "c1", after: int = 0, **kw: Any):
    sock = await client.ws_connect(ws.PATH, **kw)
    await sock.send_json(ws.Hello(conversation_id, after).to_wire())
    welcome, history = await receive(sock), await receive(sock)
    assert welcome["type"] == "welcome" and history["type"] == "messages"
    return sock, welcome, history


async def until(sock, kind: str) -> dict[str, Any]:
    while (frame := await receive(sock))["type"] != kind:
        pass
    return frame


def test_every_wire_type_round_trips() -> None:
    client_frames = [ws.Hello("abc", 3), ws.Say("Hallo", "r1"), ws.Rate(2, Rating.DOWN),
                     ws.AskHuman(), ws.Forget(), ws.Ping()]
    for frame in client_frames:
        assert ws.parse_client_frame(json.dumps(frame.to_wire())) == frame
    server_frames = [
        ws.Welcome("abc", "/voice/asr", 30, 2000, {2: Rating.UP}),
        ws.Messages(({"seq": 1, "role": "bot", "text": "x", "sources": [], "buttons": []},),
                    {"status": "queued"}, "r1"),
        ws.Typing(True), ws.Rated(2, Rating.UP), ws.Deleted(),
        ws.ErrorFrame("rate-limited", "Bitte warten.", "r1", 2.5), ws.Pong()]
    for frame in server_frames:
        assert ws.parse_server_frame(json.dumps(frame.to_wire())) == frame
    assert {f.TYPE for f in client_frames} == set(ws.CLIENT_FRAMES)
    assert {f.TYPE for f in server_frames} == set(ws.SERVER_FRAMES)


@pytest.mark.parametrize("raw, code", [
    ("{nope", "malformed-frame"),
    ("[1, 2]", "malformed-frame"),
    ("[" * 5000 + "]" * 5000, "malformed-frame"),
    ('{"type": "shout"}', "unknown-frame-type"),
    ('{"type": ["message"]}', "unknown-frame-type"),
    ('{"type": "message", "text": ""}', "empty-text"),
    ('{"type": "message", "text": 5}', "invalid-text"),
    (json.dumps({"type": "message", "text": "x" * 2001}), "text-too-long"),
    ('{"type": "message", "text": "hi", "ref": 7}', "invalid-field"),
    ('{"type": "hello", "conversation_id": "a b"}', "invalid-conversation-id"),
    ('{"type": "hello", "conversation_id": "ab", "after": -1}', "invalid-field"),
    ('{"type": "feedback", "seq": 1, "rating": "meh"}', "invalid-field"),
    ('{"type": "feedback", "seq": true, "rating": "up"}', "invalid-field"),
    ('{"type": "ping", "pad": "' + "x" * ws.MAX_FRAME + '"}', "frame-too-large"),
])
def test_malformed_frames_have_codes(raw: str, code: str) -> None:
    with pytest.raises(ws.FrameError) as err:
        ws.parse_client_frame(raw)
    assert err.value.code == code
    assert err.value.message  # German text for the widget


async def test_malformed_frames_get_error_replies_and_the_socket_stays(
        client_rasa_down: TestClient) -> None:
    sock = await client_rasa_down.ws_connect(ws.PATH)
    await sock.send_str('{"type": "message", "text": "Hallo", "ref": "m1"}')
    frame = await receive(sock)
    assert (frame["type"], frame["code"]) == ("error", "hello-required")
    await sock.send_str("kein json")
    assert (await receive(sock))["code"] == "malformed-frame"
    await sock.send_bytes(b"\x00\x01")
    assert (await receive(sock))["code"] == "binary-not-supported"
    await sock.send_str('{"type": "message", "text": "", "ref": "m2"}')
    frame = await receive(sock)
    assert (frame["code"], frame["ref"]) == ("empty-text", "m2")
    await sock.send_json({"type": "ping"})
    assert (await receive(sock))["type"] == "pong"
    assert not sock.closed
    await sock.close()


async def test_rasa_down_gives_an_error_frame_and_keeps_the_message(
        client_rasa_down: TestClient) -> None:
    sock, welcome, history = await hello(client_rasa_down, "down-1")
    assert welcome["voice"] is None and welcome["retention_days"] == 30
    assert history["messages"] == [] and history["handoff"] is None
    await sock.send_json(ws.Say("Reisepass?", "m1").to_wire())
    frames = [await receive(sock) for _ in range(4)]
    assert [f["type"] for f in frames] == ["typing", "messages", "typing", "error"]
    stored, error = frames[1], frames[3]
    assert [(m["seq"], m["role"], m["text"]) for m in stored["messages"]] == [
        (1, "citizen", "Reisepass?")]
    assert stored["ref"] == "m1"
    assert (error["code"], error["ref"]) == ("dialogue-unavailable", "m1")
    assert "nicht erreichbar" in error["message"] and "115" in error["message"]
    await sock.close()


async def test_answer_with_sources_and_buttons_reaches_every_tab(client: TestClient,
                                                                 rasa) -> None:
    stand_in, _ = rasa
    tab1, _, _ = await hello(client, "c1")
    tab2, _, _ = await hello(client, "c1")
    await tab1.send_json(ws.Say("Wie bekomme ich einen Reisepass?", "m1").to_wire())
    answer = await until(tab1, "messages")
    assert answer["ref"] == "m1"
    citizen, bot = answer["messages"]
    assert (citizen["seq"], citizen["role"]) == (1, "citizen")
    assert (bot["seq"], bot["role"], bot["text"]) == (2, "bot", ANSWER["custom"]["text"])
    assert bot["sources"] == ANSWER["custom"]["sources"]
    assert bot["buttons"] == ANSWER["custom"]["buttons"]
    other = await until(tab2, "messages")
    assert [m["seq"] for m in other["messages"]] == [1, 2] and other["ref"] is None
    assert stand_in.received[0]["sender"] == "c1"
    assert stand_in.received[0]["metadata"] == {"channel": "web"}
    await tab1.close()
    await tab2.close()


async def test_reconnect_restores_history_after_a_seq(client: TestClient) -> None:
    sock, _, _ = await hello(client, "c2")
    for i, text in enumerate(("eins", "zwei")):
        await sock.send_json(ws.Say(text, f"m{i}").to_wire())
        await until(sock, "messages")
    await sock.close()
    again, _, history = await hello(client, "c2")
    assert [m["text"] for m in history["messages"] if m["role"] == "citizen"] == ["eins", "zwei"]
    await again.close()
    later, _, history = await hello(client, "c2", after=2)
    assert [m["seq"] for m in history["messages"]] == [3, 4]
    await later.close()


async def test_staff_messages_are_pushed_without_polling(client: TestClient) -> None:
    sock, _, _ = await hello(client, "c3")
    app = client.app
    await app[keys.STORE].append("c3", [("staff", "Guten Tag, hier Frau Berg.", {})])
    assert app[ws.WIDGET].hub.publish("c3") == 1
    pushed = await receive(sock)
    assert [(m["role"], m["text"]) for m in pushed["messages"]] == [
        ("staff", "Guten Tag, hier Frau Berg.")]
    await sock.close()


async def test_feedback_is_stored_and_restored(client: TestClient) -> None:
    sock, _, _ = await hello(client, "c4")
    await sock.send_json(ws.Say("Reisepass", "m1").to_wire())
    await until(sock, "messages")
    await sock.send_json(ws.Rate(2, Rating.UP).to_wire())
    assert await receive(sock) == ws.Rated(2, Rating.UP).to_wire()
    await sock.send_json(ws.Rate(2, Rating.DOWN).to_wire())
    assert (await receive(sock))["rating"] == "down"
    await sock.send_json(ws.Rate(1, Rating.UP).to_wire())  # the citizen's own message
    assert (await receive(sock))["code"] == "feedback-invalid"
    await sock.close()
    again, welcome, _ = await hello(client, "c4")
    assert welcome["ratings"] == {"2": "down"}
    await again.close()


async def test_asking_for_a_person_takes_the_escalation_path(
        client_rasa_down: TestClient) -> None:
    # Without the dialogue engine (it is down here); the handoff part decides. With its default
    # rules and nobody from staff online, that is a callback offer.
    tab1, _, _ = await hello(client_rasa_down, "c5")
    tab2, _, _ = await hello(client_rasa_down, "c5")
    await tab1.send_json(ws.AskHuman().to_wire())
    frame = await until(tab1, "messages")
    assert [m["role"] for m in frame["messages"]] == ["bot"]
    offer = frame["messages"][0]
    assert "melden" in offer["text"] and offer["buttons"]
    assert (await until(tab2, "messages"))["messages"] == frame["messages"]
    await tab1.close()
    await tab2.close()


async def test_a_queued_conversation_reaches_every_tab(client_rasa_down: TestClient) -> None:
    tab1, _, _ = await hello(client_rasa_down, "c5q")
    tab2, _, _ = await hello(client_rasa_down, "c5q")
    store = client_rasa_down.app[keys.STORE]
    await store.set_handoff("c5q", HandoffStatus.QUEUED, {"reason": "explicit_request"})
    client_rasa_down.app[ws.WIDGET].hub.publish("c5q")
    for tab in (tab1, tab2):  # a state change without new messages is pushed too
        frame = await until(tab, "messages")
        assert frame["messages"] == [] and frame["handoff"]["status"] == "queued"
    await tab1.send_json(ws.Say("Hallo?", "m1").to_wire())
    answer = await until(tab1, "messages")
    # The bot stays silent while queued (no dialogue call, so no error either).
    assert [(m["role"], m["text"]) for m in answer["messages"]] == [("citizen", "Hallo?")]
    assert answer["handoff"]["status"] == "queued"
    await tab1.close()
    await tab2.close()


async def test_delete_reaches_every_tab_and_removes_the_conversation(client: TestClient) -> None:
    tab1, _, _ = await hello(client, "c6")
    tab2, _, _ = await hello(client, "c6")
    await tab1.send_json(ws.Say("Hallo", "m1").to_wire())
    await until(tab1, "messages")
    await until(tab2, "messages")
    await tab1.send_json(ws.Forget().to_wire())
    assert (await until(tab1, "deleted")) == {"type": "deleted"}
    assert (await until(tab2, "deleted")) == {"type": "deleted"}
    resp = await client.get("/api/v1/conversations/c6/messages")
    assert resp.status == 404
    await tab1.send_json(ws.Say("noch da?", "m2").to_wire())  # unbound after delete
    assert (await receive(tab1))["code"] == "hello-required"
    await tab1.close()
    await tab2.close()


async def test_origins_are_enforced_for_the_socket(aiohttp_client, tmp_path: Path) -> None:
    settings = _settings(tmp_path, free_port(), allowed_origins=("https://www.stadt.example",))
    client = await aiohttp_client(create_app(settings))
    resp = await client.get(ws.PATH, headers={"Origin": "https://evil.example",
                                              "Connection": "Upgrade", "Upgrade": "websocket",
                                              "Sec-WebSocket-Version": "13",
                                              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "origin-not-allowed"
    sock, _, _ = await hello(client, "o1", headers={"Origin": "https://www.stadt.example"})
    await sock.close()
    same = f"http://{client.host}:{client.port}"
    sock, _, _ = await hello(client, "o2", headers={"Origin": same})
    await sock.close()


async def test_messages_are_limited_per_conversation(frozen_limits: None,
                                                     client: TestClient) -> None:
    sock, _, _ = await hello(client, "busy")
    burst = 8  # Limits.default(): 8 writes per conversation at once, then 20 per minute
    for i in range(burst):
        await sock.send_json(ws.Say(f"Frage {i}", f"m{i}").to_wire())
        await until(sock, "messages")
    await sock.send_json(ws.Say("noch eine", "late").to_wire())
    error = await receive(sock)
    assert (error["code"], error["ref"]) == ("rate-limited", "late")
    assert error["retry_after"] == 3.0 and "warten" in error["message"]
    other, _, _ = await hello(client, "quiet")  # another conversation of the same client
    await other.send_json(ws.Say("Hallo", "q1").to_wire())
    assert (await until(other, "messages"))["ref"] == "q1"
    await sock.close()
    await other.close()


async def test_sockets_are_limited_per_client(client_rasa_down: TestClient) -> None:
    socks = [await client_rasa_down.ws_connect(ws.PATH) for _ in range(20)]
    resp = await client_rasa_down.get(ws.PATH, headers={
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert resp.status == 429
    assert (await resp.json())["error"]["code"] == "too-many-connections"
    await socks.pop().close()
    await asyncio.sleep(0)  # let the server see the close
    for _ in range(100):
        if client_rasa_down.app[ws.WIDGET].limits.sockets_per_client.acquire("127.0.0.1"):
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("closing a socket did not free its slot")
    for sock in socks:
        await sock.close()


def test_rate_limiter_refills_by_the_clock() -> None:
    now = [0.0]
    limiter = ws.RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0.0  # keys are independent
    now[0] = 1.0
    assert limiter.take("a") == 0.0


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = ws.RateLimiter(per_minute=1, burst=1, max_keys=3, clock=lambda: 0.0)
    for key in "abcd":
        limiter.take(key)
    assert limiter.take("a") == 0.0  # "a" was evicted, so it starts with a full bucket
    assert limiter.take("d") > 0


async def test_hub_keeps_a_deletion_even_when_a_queue_is_full() -> None:
    hub = ws.ChatHub()
    subscription = hub.subscribe("x")
    for _ in range(20):
        hub.publish("x")
    hub.publish("x", ws.HubEvent.DELETED)
    subscription.close()
    events = []
    while (event := await subscription.next()) is not None:
        events.append(event)
    assert events[-1] is ws.HubEvent.DELETED and len(events) <= 8
    assert hub.publish("x") == 0  # the subscription is gone


async def test_shutdown_closes_open_chat_sockets_with_going_away(client_rasa_down) -> None:
    sock, _, _ = await hello(client_rasa_down, "shutdown-1")
    assert len(client_rasa_down.app[ws.WIDGET].sockets) == 1
    await client_rasa_down.app.shutdown()
    msg = await sock.receive(timeout=5)
    assert msg.type is WSMsgType.CLOSE and msg.data == WSCloseCode.GOING_AWAY
    assert not client_rasa_down.app[ws.WIDGET].sockets
