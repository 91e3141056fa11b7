"""The gateway announces the configured retention and runs the purge when it starts."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from aiohttp import web

from bot.gateway import ws
from bot.gateway.app import create_app
from bot.settings import Settings
from bot.store import Store
from tests.conftest import free_port


def _app(tmp_path: Path, **changes: object) -> web.Application:
    return create_app(Settings.load(env={}, state_dir=tmp_path, rasa_port=free_port(),
                                    action_port=free_port(), rasa_timeout=3.0, **changes))


async def test_widget_and_welcome_frame_state_the_configured_days(aiohttp_client,
                                                                  tmp_path: Path) -> None:
    client = await aiohttp_client(_app(tmp_path, retention_days=7))
    assert (await (await client.get("/api/v1/widget")).json())["retention_days"] == 7
    sock = await client.ws_connect(ws.PATH)
    await sock.send_json(ws.Hello("r1", 0).to_wire())
    welcome = await sock.receive_json(timeout=10)
    assert welcome["type"] == "welcome" and welcome["retention_days"] == 7
    await sock.close()


async def test_the_gateway_purges_expired_conversations_at_start(aiohttp_client,
                                                                 tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{(tmp_path / 'buergerbot.db').resolve()}")
    await store.append("expired", [("citizen", "Ich heiße Anna Schmidt", {})])
    await store.append("recent", [("citizen", "Reisepass?", {})])
    async with store.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE conversations SET updated_at = :t WHERE id = 'expired'"),
                           {"t": dt.datetime.now(dt.UTC).replace(tzinfo=None)
                            - dt.timedelta(days=8)})
    await store.close()
    client = await aiohttp_client(_app(tmp_path, retention_days=7))
    for _ in range(200):  # the purge task runs right after start
        resp = await client.get("/api/v1/conversations/expired/messages")
        if resp.status == 404 or not (await resp.json())["messages"]:
            break
        await asyncio.sleep(0.05)
    history = await client.get("/api/v1/conversations/expired/messages")
    assert history.status == 404 or (await history.json())["messages"] == []
    recent = await (await client.get("/api/v1/conversations/recent/messages")).json()
    assert [m["text"] for m in recent["messages"]] == ["Reisepass?"]
