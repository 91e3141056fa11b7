"""Login, lockout, sessions, CSRF and origin checks, and that nothing is reachable without a
login — against the real gateway app and database."""

from __future__ import annotations

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient

from bot.handoff.service import utcnow
from bot.staff.accounts import Accounts
from bot.staff.passwords import Passwords
from bot.store import Store
from tests.staff.conftest import FAST, PASSWORD, Gateway, login


async def _error(resp) -> tuple[int, str]:
    return resp.status, (await resp.json())["error"]["code"]


async def test_wrong_password_and_unknown_user_look_the_same(gateway: Gateway) -> None:
    client = await gateway.start()
    wrong = await client.post("/staff/api/login", json={"username": "anna", "password": "nein"})
    unknown = await client.post("/staff/api/login", json={"username": "nobody",
                                                          "password": "nein"})
    assert await _error(wrong) == await _error(unknown) == (401, "invalid-credentials")
    assert "set-cookie" not in {k.lower() for k in wrong.headers}
    bad = await client.post("/staff/api/login", json={"username": "anna"})
    assert await _error(bad) == (400, "invalid-field")


async def test_lockout_after_repeated_failures_and_unlock_later(gateway: Gateway) -> None:
    client = await gateway.start()
    for _ in range(4):
        resp = await client.post("/staff/api/login", json={"username": "anna",
                                                           "password": "falsch"})
        assert resp.status == 401
    fifth = await client.post("/staff/api/login", json={"username": "Anna", "password": "x"})
    assert await _error(fifth) == (429, "account-locked")
    assert int(fifth.headers["Retry-After"]) == 15 * 60
    # Locked means locked, even with the right password.
    right = await client.post("/staff/api/login", json={"username": "anna",
                                                        "password": PASSWORD})
    assert await _error(right) == (429, "account-locked")
    assert "15 Minuten" in (await (await client.post(
        "/staff/api/login", json={"username": "anna", "password": PASSWORD})).json())[
        "error"]["message"]
    # Others are not affected.
    await login(client, "ben")
    gateway.clock.advance(minutes=15, seconds=1)
    await login(client, "anna")


async def test_pages_and_api_need_a_login(gateway: Gateway) -> None:
    client = await gateway.start()
    page = await client.get("/staff", allow_redirects=False)
    assert (page.status, page.headers["Location"]) == (302, "/staff/login")
    login_page = await client.get("/staff/login")
    assert login_page.status == 200 and "Anmelden" in await login_page.text()
    assert "frame-ancestors 'none'" in login_page.headers["Content-Security-Policy"]
    for method, path in [("GET", "/staff/api/queue"), ("GET", "/staff/api/me"),
                         ("GET", "/staff/api/conversations/x"), ("GET", "/staff/api/tickets"),
                         ("GET", "/staff/api/stats"),
                         ("POST", "/staff/api/conversations/x/claim"),
                         ("POST", "/staff/api/conversations/x/messages"),
                         ("POST", "/staff/api/conversations/x/release"),
                         ("POST", "/staff/api/conversations/x/close"),
                         ("POST", "/staff/api/tickets/1/close"),
                         ("POST", "/staff/api/logout")]:
        resp = await client.request(method, path, json={})
        assert await _error(resp) == (401, "not-authenticated"), path
        assert resp.headers["Cache-Control"] == "no-store"
    with pytest.raises(WSServerHandshakeError) as err:
        await client.ws_connect("/staff/api/live")
    assert err.value.status == 401
    await login(client, "anna")
    page = await client.get("/staff", allow_redirects=False)
    assert page.status == 200 and "Service-Konsole" in await page.text()
    assert (await client.get("/staff/login", allow_redirects=False)).status == 302


async def test_session_cookie_flags(gateway: Gateway) -> None:
    client = await gateway.start()
    resp = await client.post("/staff/api/login", json={"username": "anna",
                                                       "password": PASSWORD})
    cookie = resp.cookies["buergerbot_staff"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/staff"
    assert not cookie["secure"]
    behind_tls = await client.post("/staff/api/login", json={"username": "ben",
                                                             "password": PASSWORD},
                                   headers={"X-Forwarded-Proto": "https"})
    secure = behind_tls.cookies["__Host-buergerbot_staff"]
    assert secure["secure"] and secure["httponly"] and secure["path"] == "/"
    assert secure["samesite"] == "Strict"


async def test_csrf_token_and_origin_are_checked(gateway: Gateway) -> None:
    client = await gateway.start()
    token = await login(client, "anna")
    url = "/staff/api/conversations/none/claim"
    assert await _error(await client.post(url)) == (403, "csrf-invalid")
    assert await _error(await client.post(url, headers={"X-CSRF-Token": "x" * 43})) == (
        403, "csrf-invalid")
    assert await _error(await client.post(url, headers={
        "X-CSRF-Token": token, "Origin": "https://evil.example"})) == (403, "origin-not-allowed")
    same = f"http://{client.host}:{client.port}"
    assert await _error(await client.post(url, headers={"X-CSRF-Token": token,
                                                        "Origin": same})) == (
        404, "conversation-not-found")
    cross_login = await client.post("/staff/api/login", json={"username": "ben",
                                                              "password": PASSWORD},
                                    headers={"Origin": "https://evil.example"})
    assert await _error(cross_login) == (403, "origin-not-allowed")
    # Another session's token does not fit this session.
    other = await gateway.another_client(client)
    other_token = await login(other, "ben")
    assert await _error(await client.post(url, headers={"X-CSRF-Token": other_token})) == (
        403, "csrf-invalid")
    with pytest.raises(WSServerHandshakeError) as err:
        await client.ws_connect("/staff/api/live", headers={"Origin": "https://evil.example"})
    assert err.value.status == 403


async def test_logout_idle_timeout_and_password_change_end_sessions(gateway: Gateway) -> None:
    client = await gateway.start()
    token = await login(client, "anna")
    assert (await client.post("/staff/api/logout", headers={"X-CSRF-Token": token})).status \
        == 200
    assert (await client.get("/staff/api/me")).status == 401

    await login(client, "anna")
    gateway.clock.advance(minutes=61)  # idle longer than StaffConfig.idle_minutes
    assert (await client.get("/staff/api/me")).status == 401

    await login(client, "anna")
    store = await Store.open(gateway.url)
    try:
        await Accounts(store.engine).set_password("anna", Passwords(FAST).hash("ein-ganz-neues-pw"),
                                                  utcnow())
    finally:
        await store.close()
    assert (await client.get("/staff/api/me")).status == 401
    await login(client, "anna", "ein-ganz-neues-pw")


async def _live_event(ws, kind: str) -> dict:
    while True:
        frame = await ws.receive_json(timeout=5)
        if frame["type"] == kind:
            return frame


async def test_live_socket_pushes_queue_changes_and_watched_messages(gateway: Gateway) -> None:
    client = await gateway.start()
    staff: TestClient = await gateway.another_client(client)
    await login(staff, "anna")
    ws = await staff.ws_connect("/staff/api/live")
    hello = await _live_event(ws, "hello")
    assert hello["staff"]["username"] == "anna" and hello["staff_online"] == ["anna"]
    await client.post("/api/v1/chat", json={"conversation_id": "live1", "text": "Mensch"})
    changed = await _live_event(ws, "queue.changed")
    assert (changed["conversation_id"], changed["status"]) == ("live1", "queued")
    await ws.send_json({"type": "watch", "conversation_id": "live1"})
    await ws.send_json({"type": "ping"})
    await _live_event(ws, "pong")
    await client.post("/api/v1/chat", json={"conversation_id": "live1", "text": "Hallo?"})
    message = await _live_event(ws, "conversation.message")
    assert message["message"]["text"] == "Hallo?" and message["message"]["role"] == "citizen"
    await ws.send_str("kein json")
    assert (await _live_event(ws, "error"))["code"] == "unknown-frame-type"
    await ws.close()
