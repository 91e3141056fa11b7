"""The console's live socket ``/staff/api/live``: queue and ticket changes for everyone, the
messages of the conversation a staff member has open, and who is online.

    client → server  {"type": "watch", "conversation_id"} | {"type": "unwatch"} | {"type": "ping"}
    server → client  hello {staff, staff_online} | queue.changed | ticket.changed |
                     conversation.message | call.transfer | staff.presence | resync | pong |
                     error {code, message}

Opening it needs a live session cookie and a same-origin request (no cross-site sockets). A
``ping`` also re-checks the session: after logout or expiry the socket is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from bot.gateway.api import CONVERSATION_ID
from bot.handoff.events import Event, MessageAdded, StaffPresence, Subscription
from bot.staff.http import NOT_LOGGED_IN, current_session, require_same_origin, staff_view
from bot.staff.keys import CONSOLE, Console
from bot.staff.sessions import Session

log = structlog.get_logger(__name__)
PATH = "/staff/api/live"
routes = web.RouteTableDef()


class LiveSocket:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request, console: Console,
                 session: Session) -> None:
        self._ws = ws
        self._request = request
        self._console = console
        self._session = session
        self._watching: str | None = None

    async def run(self) -> None:
        service = self._console.handoff
        username = self._session.actor.username
        with service.presence.online(username):
            service.hub.publish(StaffPresence(tuple(sorted(service.presence.usernames()))))
            async with service.hub.subscribe() as events:
                await self._send({"type": "hello", "staff": staff_view(self._session),
                                  "staff_online": sorted(service.presence.usernames())})
                pump = asyncio.create_task(self._pump(events))
                try:
                    await self._read()
                finally:
                    pump.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await pump
        service.hub.publish(StaffPresence(tuple(sorted(service.presence.usernames()))))

    async def _read(self) -> None:
        async for msg in self._ws:
            if msg.type is not WSMsgType.TEXT:
                await self._error("malformed-frame", "Nur JSON-Textnachrichten sind erlaubt.")
                continue
            try:
                frame = json.loads(msg.data)
            except ValueError:
                frame = None
            kind = frame.get("type") if isinstance(frame, dict) else None
            if kind == "watch" and isinstance(frame, dict):
                cid = frame.get("conversation_id")
                if not isinstance(cid, str) or not CONVERSATION_ID.fullmatch(cid):
                    await self._error("invalid-conversation-id", "Ungültige Gesprächs-ID.")
                    continue
                self._watching = cid
            elif kind == "unwatch":
                self._watching = None
            elif kind == "ping":
                if await current_session(self._request) is None:
                    await self._error(NOT_LOGGED_IN.code, NOT_LOGGED_IN.message)
                    await self._ws.close()
                    return
                await self._send({"type": "pong"})
            else:
                await self._error("unknown-frame-type", "Unbekannter Nachrichtentyp.")

    async def _pump(self, events: Subscription) -> None:
        while True:
            event: Event = await events.get()
            if isinstance(event, MessageAdded) and event.conversation_id != self._watching:
                continue
            await self._send(event.to_wire())

    async def _error(self, code: str, message: str) -> None:
        await self._send({"type": "error", "code": code, "message": message})

    async def _send(self, data: dict[str, Any]) -> None:
        if not self._ws.closed:
            with contextlib.suppress(ConnectionResetError):
                await self._ws.send_str(json.dumps(data, ensure_ascii=False))


@routes.get(PATH)
async def live(request: web.Request) -> web.StreamResponse:
    session = await current_session(request)
    if session is None:
        raise NOT_LOGGED_IN
    require_same_origin(request)
    console = request.app[CONSOLE]
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=4096)
    await ws.prepare(request)
    log.info("staff.live.open", staff=session.actor.username)
    console.sockets.add(ws)
    try:
        await LiveSocket(ws, request, console, session).run()
    finally:
        console.sockets.discard(ws)
    log.info("staff.live.closed", staff=session.actor.username)
    return ws


async def close_all(app: web.Application) -> None:
    """on_shutdown: tell every console to reconnect (they do, with backoff)."""
    console = app.get(CONSOLE)
    for ws in list(console.sockets if console else ()):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"Server wird neu gestartet")
