"""Security headers on every kind of response, oversize and garbage bodies, HTTP floods from
one client and a slow client, against the real gateway on a real port (Rasa unreachable)."""

from __future__ import annotations

import asyncio
import gzip

import aiohttp
from aiohttp import http_parser
from aiohttp.test_utils import TestClient

REFERRER = {"strict-origin-when-cross-origin", "no-referrer"}  # the console: no-referrer


async def _headers(client: TestClient, method: str, path: str, **kw) -> tuple[int, dict]:
    response = await client.request(method, path, **kw)
    await response.read()
    return response.status, dict(response.headers)


async def test_every_kind_of_response_has_the_security_headers(gateway: TestClient) -> None:
    cases = [
        ("GET", "/", {}),  # HTML page
        ("GET", "/staff/login", {}),  # console HTML
        ("GET", "/embed.js", {}),  # script asset
        ("GET", "/api/v1/widget", {}),  # JSON
        ("GET", "/api/v1/openapi.json", {}),
        ("GET", "/api/v1/nope", {}),  # JSON 404
        ("GET", "/nope", {}),  # plain 404
        ("PUT", "/api/v1/chat", {}),  # 405
        ("POST", "/api/v1/chat", {"data": b"{", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/api/v1/chat", {"json": {"conversation_id": "a", "text": "Hallo"}}),  # 503
        ("GET", "/staff/api/me", {}),  # 401
        ("GET", "/health", {}),
    ]
    for method, path, kw in cases:
        status, headers = await _headers(gateway, method, path, **kw)
        assert headers.get("X-Content-Type-Options") == "nosniff", (method, path, status)
        assert headers.get("Referrer-Policy") in REFERRER, (method, path, status)
        assert "Content-Security-Policy" in headers, (method, path, status)
        assert "Cross-Origin-Resource-Policy" in headers, (method, path, status)
        if headers.get("Content-Type", "").startswith("text/html"):
            assert "frame-ancestors" in headers["Content-Security-Policy"]
            assert headers.get("X-Frame-Options") in ("SAMEORIGIN", "DENY")
        if path.startswith("/staff/api/"):
            assert headers.get("Cache-Control") == "no-store"
        assert status < 500 or (status == 503 and path in ("/api/v1/chat", "/health")), \
            (method, path, status)


async def test_hostile_bodies_get_clear_4xx(gateway: TestClient) -> None:
    chat = "/api/v1/chat"
    big = await gateway.post(chat, data=b"{" + b" " * (70 * 1024) + b"}",
                             headers={"Content-Type": "application/json"})
    assert big.status == 413
    assert (await big.json())["error"]["code"] == "payload-too-large"
    binary = await gateway.post(chat, data=bytes(range(256)) * 4,
                                headers={"Content-Type": "application/json"})
    assert (binary.status, (await binary.json())["error"]["code"]) == (400, "malformed-json")
    wrong_type = await gateway.post(chat, data=b"<xml/>", headers={"Content-Type": "text/xml"})
    assert wrong_type.status == 415
    # A zip bomb: 10 MB of zeros in 10 KB; the handler stops reading after 16 KiB.
    bomb = gzip.compress(b"0" * 10_000_000)
    zipped = await gateway.post(chat, data=bomb, headers={"Content-Type": "application/json",
                                                         "Content-Encoding": "gzip"})
    assert zipped.status in (400, 413)


def test_the_c_http_parser_is_in_use() -> None:
    # docs/SECURITY.md and requirements/audit-ignore.toml rely on llhttp, not the pure-Python
    # parser (several aiohttp 3.9.5 request smuggling advisories concern the latter only).
    assert http_parser.HttpRequestParser is not http_parser.HttpRequestParserPy


async def test_a_flood_of_requests_from_one_client_is_answered_not_dropped(
        gateway: TestClient) -> None:
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        url = str(gateway.make_url("/api/v1/widget"))

        async def one() -> tuple[int, str | None]:
            async with session.get(url) as response:
                await response.read()
                return response.status, response.headers.get("Retry-After")

        results = await asyncio.gather(*(one() for _ in range(150)))
    statuses = [status for status, _ in results]
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) >= 1 and statuses.count(429) >= 1  # the read limit holds
    assert all(retry and int(retry) >= 1 for status, retry in results if status == 429)
    live = await gateway.get("/health/live")  # and the gateway still serves
    assert live.status == 200


async def test_a_slow_client_does_not_block_others(gateway: TestClient) -> None:
    host, port = gateway.server.host, gateway.server.port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for byte in b"GET /health/live HTTP/1.1\r\nHost: x\r\n":
            writer.write(bytes([byte]))
            await writer.drain()
            # Meanwhile everyone else is served at once.
            if byte == ord("\n"):
                assert (await gateway.get("/health/live")).status == 200
        writer.write(b"\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200")
    finally:
        writer.close()
        await writer.wait_closed()
