"""The transport seam between the gateway and the dialogue: Rasa's REST webhook, Rasa's ``/``
and the action server's ``/health`` on one real HTTP port. Tests that are about the gateway
(store, sockets, metrics, console) pass the webhook handler that answers like the bot for them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _ok(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def rasa_stand_in(webhook: Handler, app: web.Application | None = None) -> web.Application:
    """``app`` (a new one by default) with ``webhook`` as Rasa's REST webhook and healthy
    ``/`` and ``/health``."""
    app = app if app is not None else web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/", _ok)
    app.router.add_get("/health", _ok)
    return app
