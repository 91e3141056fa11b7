"""The chat socket under fuzzing: arbitrary JSON, unicode, nesting, huge numbers and wrong types
get an ``error`` frame and the socket stays open; binary, invalid UTF-8, oversize and garbage
frames; too many sockets from one client. Against the real gateway (Rasa unreachable)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.gateway import ws
from bot.gateway.app import create_app
from tests.conftest import free_port
from tests.security.conftest import gateway_settings

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**20)
    | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)
FIELDS = st.sampled_from(["conversation_id", "after", "text", "ref", "seq", "rating", "type"])
# Objects that look like frames: a known (or almost known) type plus fields of any type.
FRAMEISH = st.builds(
    lambda kind, fields: {**fields, "type": kind},
    st.sampled_from([*ws.CLIENT_FRAMES, "HELLO", "", "message "]) | JSON,
    st.dictionaries(FIELDS, JSON, max_size=4))
RAW = (st.one_of(JSON, FRAMEISH).map(lambda v: json.dumps(v, ensure_ascii=False))
       | st.text(max_size=300)
       | st.binary(max_size=64).map(lambda b: b.decode("latin-1")))


@settings(max_examples=400, deadline=None)
@given(RAW)
def test_frame_parsing_only_ever_raises_frame_errors(raw: str) -> None:
    try:
        frame = ws.parse_client_frame(raw)
    except ws.FrameError as err:
        assert err.code and err.message  # machine code + German text for the widget
    else:
        assert frame.TYPE in ws.CLIENT_FRAMES


@settings(max_examples=200, deadline=None)
@given(st.integers() | st.floats() | st.text() | st.lists(st.integers()) | st.booleans())
def test_wrong_types_in_every_field_are_rejected_cleanly(value: Any) -> None:
    for kind in ws.CLIENT_FRAMES:
        for field in ("conversation_id", "after", "text", "ref", "seq", "rating"):
            try:
                ws.parse_client_frame(json.dumps({"type": kind, field: value}))
            except ws.FrameError:
                pass


# -- a real gateway in a thread, so hypothesis can drive a socket per example --------------------
@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    port = free_port()
    state: Path = tmp_path_factory.mktemp("ws-fuzz")
    app = create_app(gateway_settings(state, rate_limit_client_per_minute=100_000,
                                      rate_limit_conversation_per_minute=100_000))
    runner = web.AppRunner(app)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(60)
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)
    assert not thread.is_alive()


async def _exchange(url: str, frames: list[str], bind: bool) -> list[list[dict[str, Any]]]:
    """Send each frame then a ping; return the server frames received before each pong."""
    replies: list[list[dict[str, Any]]] = []
    async with aiohttp.ClientSession() as session, \
            session.ws_connect(url + ws.PATH, timeout=10) as sock:
        if bind:
            await sock.send_json(ws.Hello("fuzz").to_wire())
        for frame in [*frames, None]:
            if frame is not None:
                await sock.send_str(frame)
            await sock.send_json(ws.Ping().to_wire())
            got: list[dict[str, Any]] = []
            while True:
                msg = await sock.receive(timeout=15)
                assert msg.type is WSMsgType.TEXT, f"socket ended after {frame!r}: {msg}"
                data = json.loads(msg.data)
                ws.parse_server_frame(msg.data)  # every server frame is well-formed
                if data["type"] == "pong":
                    break
                got.append(data)
            replies.append(got)
    return replies


def _is_ping(raw: str) -> bool:
    try:
        return isinstance(ws.parse_client_frame(raw), ws.Ping)
    except ws.FrameError:
        return False


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(JSON, FRAMEISH).map(json.dumps) | st.text(max_size=200),
                min_size=1, max_size=4), st.booleans())
def test_socket_answers_every_fuzzed_frame_and_stays_open(gateway_url: str, frames: list[str],
                                                          bind: bool) -> None:
    frames = [f for f in frames if not _is_ping(f)]  # our own ping marks the end of a reply
    replies = asyncio.run(_exchange(gateway_url, frames, bind))
    for frame, got in zip(frames, replies, strict=False):  # hello's replies come first
        try:
            ws.parse_client_frame(frame)
        except ws.FrameError:
            assert any(r["type"] == "error" for r in got), (frame, got)


# -- explicit hostile frames ----------------------------------------------------------------------
@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:
    return await aiohttp_client(create_app(gateway_settings(tmp_path)))


async def _reply(sock: Any) -> dict[str, Any]:
    msg = await sock.receive(timeout=10)
    assert msg.type is WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def _still_open(sock: Any) -> None:
    await sock.send_json({"type": "ping"})
    assert (await _reply(sock))["type"] == "pong"


async def test_binary_frames_get_an_error_and_the_socket_stays(client: TestClient) -> None:
    sock = await client.ws_connect(ws.PATH)
    await sock.send_bytes(b"\x00\xff" * 100)
    assert (await _reply(sock))["code"] == "binary-not-supported"
    await _still_open(sock)


async def test_oversize_text_frames_get_an_error_and_the_socket_stays(
        client: TestClient) -> None:
    sock = await client.ws_connect(ws.PATH)
    await sock.send_str(json.dumps({"type": "message", "text": "x" * (ws.MAX_FRAME + 10)}))
    assert (await _reply(sock))["code"] == "frame-too-large"
    await sock.send_str("[" * 100_00 + "]" * 100_00)  # deep nesting, under the size limit
    assert (await _reply(sock))["code"] in ("malformed-frame", "frame-too-large")
    await _still_open(sock)


async def test_frames_above_the_message_limit_close_with_1009(client: TestClient) -> None:
    sock = await client.ws_connect(ws.PATH)
    await sock.send_str("x" * (ws.MAX_WS_MESSAGE + 1))
    msg = await sock.receive(timeout=10)
    assert msg.type is WSMsgType.CLOSE and msg.data == WSCloseCode.MESSAGE_TOO_BIG
    # The gateway goes on serving.
    await _still_open(await client.ws_connect(ws.PATH))


async def test_invalid_utf8_text_frames_close_with_1007(client: TestClient) -> None:
    sock = await client.ws_connect(ws.PATH)
    # The public API only sends valid text; write the raw frame (opcode TEXT, bytes not UTF-8).
    await sock._writer._send_frame(b"\xff\xfe\xc3(", WSMsgType.TEXT)
    msg = await sock.receive(timeout=10)
    assert msg.type is WSMsgType.CLOSE and msg.data == WSCloseCode.INVALID_TEXT
    await _still_open(await client.ws_connect(ws.PATH))


async def test_a_flood_of_sockets_from_one_client_is_limited(client: TestClient) -> None:
    socks = [await client.ws_connect(ws.PATH) for _ in range(20)]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(ws.PATH)
    assert refused.value.status == 429
    await socks.pop().close()
    await asyncio.sleep(0.1)  # the handler's finally releases the slot
    socks.append(await client.ws_connect(ws.PATH))
    await _still_open(socks[-1])
    for sock in socks:
        await sock.close()
