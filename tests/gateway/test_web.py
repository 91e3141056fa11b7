"""The web chat's HTTP side: demo page, embed.js, static files, security headers, allowed
origins (CORS), rate limits, the widget's HTTP fallback routes and the size budget."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.gateway import keys, ws
from bot.gateway import web as web_chat
from bot.gateway.app import create_app
from bot.settings import Settings
from tests.conftest import free_port

CITY = "https://www.stadt.example"


def _app(tmp_path: Path, **changes) -> web.Application:
    return create_app(Settings.load(env={}, state_dir=tmp_path, rasa_port=free_port(),
                                    action_port=free_port(), rasa_timeout=3.0, **changes))


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:
    return await aiohttp_client(_app(tmp_path, allowed_origins=(CITY,)))


async def test_demo_page_embeds_the_widget_with_one_tag(client: TestClient) -> None:
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    html = await resp.text()
    assert html.count("<script") == 1 and 'src="/embed.js"' in html
    assert 'lang="de"' in html


async def test_pages_carry_security_headers(client: TestClient) -> None:
    resp = await client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'",
                      "frame-ancestors 'self'", "base-uri 'none'", "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "microphone=(self)" in resp.headers["Permissions-Policy"]
    assert resp.headers["Cross-Origin-Opener-Policy"] == "same-origin"


async def test_a_not_modified_page_keeps_the_page_policy(client: TestClient) -> None:
    # The browser merges a 304's headers into the cached page: it must not get the API policy.
    etag = (await client.get("/")).headers["ETag"]
    resp = await client.get("/", headers={"If-None-Match": etag})
    assert resp.status == 304
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


async def test_api_answers_carry_a_locked_down_policy(client: TestClient) -> None:
    resp = await client.get("/api/v1/widget")
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_embed_js_is_cacheable_compressed_and_loadable_by_any_site(
        client: TestClient) -> None:
    resp = await client.get("/embed.js", headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200
    assert resp.content_type == "text/javascript"
    assert resp.headers["Content-Encoding"] == "gzip"
    assert resp.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=300" in resp.headers["Cache-Control"]
    body = await resp.text()
    assert "customElements.define" in body
    again = await client.get("/embed.js", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status == 304


async def test_static_files_only_from_the_static_folder(client: TestClient) -> None:
    assert (await client.get("/static/demo.css")).status == 200
    assert (await client.get("/static/pcm-worklet.js")).status == 200
    for path in ("/static/%2e%2e%2fembed.js", "/static/..%2Fembed.js", "/static/nope.css",
                 "/static/", "/index.html"):
        assert (await client.get(path)).status == 404, path


def test_widget_stays_within_its_size_budget() -> None:
    # Target: widget JS + CSS (the CSS lives inside embed.js) ≤ 40 KB gzipped.
    assets = web_chat._assets()
    size = len(assets["embed.js"].gzipped)
    assert size <= 40 * 1024, size
    assert gzip.decompress(assets["embed.js"].gzipped) == assets["embed.js"].body


def test_widget_never_builds_html_from_strings() -> None:
    source = web_chat.WEB_ROOT.joinpath("embed.js").read_text(encoding="utf-8")
    for sink in (".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function", "javascript:"):
        assert sink not in source, sink


async def test_origins_are_enforced_and_allowed_ones_get_cors(client: TestClient) -> None:
    resp = await client.get("/api/v1/widget", headers={"Origin": "https://evil.example"})
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "origin-not-allowed"
    resp = await client.post("/api/v1/chat", json={"conversation_id": "a", "text": "x"},
                             headers={"Origin": "https://evil.example"})
    assert resp.status == 403
    resp = await client.get("/api/v1/widget", headers={"Origin": CITY})
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == CITY
    assert "Origin" in resp.headers["Vary"]
    same = await client.get("/api/v1/widget",
                            headers={"Origin": f"http://{client.host}:{client.port}"})
    assert same.status == 200 and "Access-Control-Allow-Origin" not in same.headers
    plain = await client.get("/api/v1/widget")  # no Origin: not a browser page, allowed
    assert plain.status == 200


async def test_cors_preflight(client: TestClient) -> None:
    resp = await client.options("/api/v1/chat", headers={
        "Origin": CITY, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == CITY
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert resp.headers["Access-Control-Allow-Headers"] == "Content-Type"
    denied = await client.options("/api/v1/chat", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert denied.status == 403 and "Access-Control-Allow-Origin" not in denied.headers


async def test_errors_of_allowed_origins_are_readable(client: TestClient) -> None:
    resp = await client.post("/api/v1/chat", json={"conversation_id": "bad id", "text": "x"},
                             headers={"Origin": CITY})
    assert resp.status == 400
    assert resp.headers["Access-Control-Allow-Origin"] == CITY


async def test_any_origin_with_a_star(aiohttp_client, tmp_path: Path) -> None:
    client = await aiohttp_client(_app(tmp_path, allowed_origins=("*",)))
    resp = await client.get("/api/v1/widget", headers={"Origin": "https://anywhere.example"})
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "https://anywhere.example"


async def test_widget_config(client: TestClient) -> None:
    body = await (await client.get("/api/v1/widget")).json()
    assert body == {"socket": "/api/v1/ws", "voice": None, "retention_days": 30,
                    "max_text": 2000}


async def test_voice_is_offered_only_while_the_voice_line_has_a_model(aiohttp_client,
                                                                      tmp_path: Path) -> None:
    from voice.web import VOICE

    client = await aiohttp_client(_app(tmp_path))  # the real voice line, no Vosk model set
    assert client.app[VOICE].runtime is None
    assert (await (await client.get("/api/v1/widget")).json())["voice"] is None
    assert (await client.get("/voice/asr")).status == 503
    # With a loaded model (the real one is exercised in tests/web/test_dictation.py):
    client.app[VOICE].runtime = object()  # type: ignore[assignment]
    assert (await (await client.get("/api/v1/widget")).json())["voice"] == "/voice/asr"


async def test_http_fallback_feedback_handoff_and_delete(client: TestClient) -> None:
    store = client.app[keys.STORE]
    await store.append("h1", [("citizen", "Reisepass?", {}), ("bot", "Im Bürgerbüro.", {})])
    resp = await client.post("/api/v1/conversations/h1/feedback", json={"seq": 2, "rating": "up"})
    assert (resp.status, await resp.json()) == (200, {"seq": 2, "rating": "up"})
    resp = await client.post("/api/v1/conversations/h1/feedback", json={"seq": 1, "rating": "up"})
    assert (await resp.json())["error"]["code"] == "feedback-invalid"
    resp = await client.post("/api/v1/conversations/h1/feedback", json={"seq": 2, "rating": 5})
    assert (resp.status, (await resp.json())["error"]["code"]) == (400, "invalid-field")
    resp = await client.post("/api/v1/conversations/h1/handoff")
    assert resp.status == 200 and (await resp.json())["conversation_id"] == "h1"
    history = await (await client.get("/api/v1/conversations/h1/messages")).json()
    assert "melden" in history["messages"][-1]["text"]  # nobody online: a callback offer
    assert (await client.delete("/api/v1/conversations/h1")).status == 204
    assert (await client.delete("/api/v1/conversations/h1")).status == 404
    assert (await client.get("/api/v1/conversations/h1/messages")).status == 404
    assert await client.app[ws.WIDGET].feedback.ratings("h1") == {}


async def test_http_writes_are_rate_limited_per_client(monkeypatch, aiohttp_client,
                                                       tmp_path: Path) -> None:
    original = ws.Limits.default.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(ws.Limits, "default",
                        classmethod(lambda cls, clock=None, **kw: original(cls, clock=lambda: 0.0, **kw)))
    client = await aiohttp_client(_app(tmp_path))
    statuses = []
    for i in range(21):  # 20 writes per client at once, then 60 per minute
        resp = await client.post("/api/v1/chat", json={"conversation_id": f"c{i}", "text": "x"})
        statuses.append(resp.status)
    assert statuses[:20] == [503] * 20  # through to the (down) dialogue engine
    assert statuses[20] == 429
    assert resp.headers["Retry-After"] == "1"  # 60 per minute: the next token in a second
    assert (await resp.json())["error"]["code"] == "rate-limited"
    assert (await client.get("/api/v1/widget")).status == 200  # reads have their own budget
