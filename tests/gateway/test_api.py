"""The chat API contract: validation, error codes, storage, and 503 when Rasa is down.

Rasa and the action server are pointed at closed ports here: the real failure, not a mock.
The happy path through real Rasa is in tests/test_stack.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.gateway.app import create_app
from bot.settings import Settings
from tests.conftest import free_port


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:
    settings = Settings.load(env={}, state_dir=tmp_path, rasa_port=free_port(),
                             action_port=free_port(), rasa_timeout=3.0)
    app: web.Application = create_app(settings)
    return await aiohttp_client(app)


async def _error(resp) -> tuple[int, str, str]:
    body = await resp.json()
    return resp.status, body["error"]["code"], body["error"]["message"]


async def test_malformed_json(client: TestClient) -> None:
    resp = await client.post("/api/v1/chat", data=b"{not json",
                             headers={"Content-Type": "application/json"})
    status, code, message = await _error(resp)
    assert (status, code) == (400, "malformed-json")
    assert "JSON" in message


async def test_json_array_is_rejected(client: TestClient) -> None:
    resp = await client.post("/api/v1/chat", json=["Hallo"])
    assert (await _error(resp))[:2] == (400, "malformed-json")


async def test_wrong_content_type(client: TestClient) -> None:
    resp = await client.post("/api/v1/chat", data="conversation_id=a&text=b",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (await _error(resp))[:2] == (415, "unsupported-media-type")


@pytest.mark.parametrize("body, field", [
    ({"text": "Hallo"}, "conversation_id"),
    ({"conversation_id": "abc"}, "text"),
])
async def test_missing_fields(client: TestClient, body: dict, field: str) -> None:
    status, code, message = await _error(await client.post("/api/v1/chat", json=body))
    assert (status, code) == (400, "missing-field")
    assert field in message


@pytest.mark.parametrize("text, code", [
    ("", "empty-text"),
    ("   \n ", "empty-text"),
    ("x" * 2001, "text-too-long"),
    (42, "invalid-text"),
    ("a\x00b", "invalid-text"),
])
async def test_bad_text(client: TestClient, text: object, code: str) -> None:
    resp = await client.post("/api/v1/chat", json={"conversation_id": "abc", "text": text})
    assert (await _error(resp))[:2] == (400, code)


async def test_text_of_exactly_2000_chars_is_accepted_for_validation(client: TestClient) -> None:
    # Validation passes; Rasa is down, so the answer is the 503 of the next stage.
    resp = await client.post("/api/v1/chat", json={"conversation_id": "abc", "text": "x" * 2000})
    assert resp.status == 503


@pytest.mark.parametrize("cid", ["", "a" * 65, "bad id", "ümlaut", "a/b", 7, None])
async def test_bad_conversation_id(client: TestClient, cid: object) -> None:
    resp = await client.post("/api/v1/chat", json={"conversation_id": cid, "text": "Hallo"})
    assert (await _error(resp))[:2] == (400, "invalid-conversation-id")


async def test_oversize_body(client: TestClient) -> None:
    resp = await client.post("/api/v1/chat", data=b"{" + b" " * 70_000 + b"}",
                             headers={"Content-Type": "application/json"})
    assert (await _error(resp))[:2] == (413, "payload-too-large")


async def test_rasa_down_gives_503_quickly_and_keeps_the_message(client: TestClient) -> None:
    started = time.monotonic()
    resp = await client.post("/api/v1/chat",
                             json={"conversation_id": "citizen-1", "text": "Reisepass?"})
    elapsed = time.monotonic() - started
    status, code, message = await _error(resp)
    assert (status, code) == (503, "dialogue-unavailable")
    assert "nicht erreichbar" in message
    assert elapsed < 5, "a down dialogue engine must not hang the citizen"
    history = await (await client.get("/api/v1/conversations/citizen-1/messages")).json()
    assert [(m["seq"], m["role"], m["text"]) for m in history["messages"]] == [
        (1, "citizen", "Reisepass?")]


async def test_messages_after_and_validation(client: TestClient) -> None:
    for text in ("eins", "zwei", "drei"):
        await client.post("/api/v1/chat", json={"conversation_id": "c2", "text": text})
    body = await (await client.get("/api/v1/conversations/c2/messages?after=1")).json()
    assert [m["text"] for m in body["messages"]] == ["zwei", "drei"]
    assert body["handoff"] is None
    assert (await _error(await client.get("/api/v1/conversations/c2/messages?after=-1")))[:2] == (
        400, "invalid-after")
    assert (await _error(await client.get("/api/v1/conversations/nobody/messages")))[:2] == (
        404, "conversation-not-found")
    assert (await _error(await client.get("/api/v1/conversations/bad%20id/messages")))[:2] == (
        400, "invalid-conversation-id")


async def test_unknown_api_path_is_json_404(client: TestClient) -> None:
    assert (await _error(await client.get("/api/v1/nothing")))[:2] == (404, "not-found")
    assert (await _error(await client.get("/api/v1/chat")))[:2] == (405, "method-not-allowed")


async def test_health_names_the_components_that_are_down(client: TestClient) -> None:
    resp = await client.get("/health")
    body = await resp.json()
    assert resp.status == 503
    assert body["down"] == ["action_server", "rasa"]
    assert body["components"]["database"]["ok"] is True
    assert body["components"]["gateway"]["ok"] is True
    live = await client.get("/health/live")
    assert live.status == 200


async def test_post_chat_is_rate_limited_per_conversation(aiohttp_client, tmp_path: Path) -> None:
    settings = Settings.load(env={}, state_dir=tmp_path, rasa_port=free_port(),
                             action_port=free_port(), rasa_timeout=3.0,
                             rate_limit_conversation_per_minute=2)  # burst of 1
    client = await aiohttp_client(create_app(settings))
    first = await client.post("/api/v1/chat", json={"conversation_id": "busy", "text": "eins"})
    assert first.status == 503  # passed the limit; Rasa is down here
    second = await client.post("/api/v1/chat", json={"conversation_id": "busy", "text": "zwei"})
    assert (await _error(second))[:2] == (429, "rate-limited")
    other = await client.post("/api/v1/chat", json={"conversation_id": "calm", "text": "eins"})
    assert other.status == 503  # another conversation is not affected
