"""The gateway's composition root: ``create_app(settings) -> web.Application``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import structlog
import uvloop
from aiohttp import web

from bot import gcpause, staff
from bot.gateway import api, keys, voice_line
from bot.gateway import web as web_chat
from bot.gateway.bus import BUS, bus_ctx
from bot.gateway.dialogue import RasaClient
from bot.gateway.errors import error_middleware
from bot.observability import gateway as observability
from bot.settings import Settings
from bot.store import Store

log = structlog.get_logger(__name__)


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store = await Store.open(settings.db_url)
    app[keys.STORE] = store
    yield
    await store.close()


async def _dialogue_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=30)
    metrics = app[observability.METRICS]
    async with aiohttp.ClientSession(
            connector=connector, trace_configs=[observability.dialogue_trace(metrics)]) as session:
        client = RasaClient(session, settings.rasa_urls, settings.action_url, settings.rasa_timeout)
        app[keys.DIALOGUE] = client
        chat = observability.MeasuredChatService(app[keys.STORE], client, metrics)
        if app[BUS].shared:  # several gateways: one turn at a time per conversation, city-wide
            chat.attach_turn_lock(app[BUS].turn_lock)
        app[keys.CHAT] = chat
        yield


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=64 * 1024)
    app[keys.SETTINGS] = settings
    observability.setup(app, settings)  # metrics, /metrics, /health/ready
    app.cleanup_ctx.extend([_store_ctx, bus_ctx, _dialogue_ctx])
    app.add_routes(api.routes)
    web_chat.setup(app)
    staff.setup(app)
    voice_line.setup(app, settings)
    return app


def serve(settings: Settings) -> None:
    """Run the gateway in this process until SIGINT/SIGTERM."""
    log.info("gateway.start", url=settings.gateway_url)
    gcpause.hold()  # until started; then the start-up's objects are frozen (bot/gcpause.py)
    app = create_app(settings)
    observability.install_drain(app, settings.shutdown_drain_seconds)

    async def settle_gc(_: web.Application) -> None:
        gcpause.settle()

    app.on_startup.append(settle_gc)  # the last start-up step
    # uvloop, the event loop Rasa's and the action server's Sanic run on: less CPU per request
    # than asyncio's own loop.
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    web.run_app(app, host=settings.host, port=settings.gateway_port,
                print=None, access_log=None, handle_signals=True, loop=loop)
