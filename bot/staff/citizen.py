"""The citizen's view of a handoff: ``GET /api/v1/conversations/{id}/handoff`` answers the
status, the place in the queue and a rough wait (for the widget's waiting banner)."""

from __future__ import annotations

from aiohttp import web

from bot.gateway.api import _conversation_id
from bot.gateway.errors import ApiError
from bot.handoff.errors import HandoffError
from bot.handoff.estimate import position_text
from bot.staff.keys import CONSOLE

routes = web.RouteTableDef()


@routes.get("/api/v1/conversations/{conversation_id}/handoff")
async def waiting(request: web.Request) -> web.Response:
    cid = _conversation_id(request.match_info["conversation_id"])
    try:
        info = await request.app[CONSOLE].handoff.waiting(cid)
    except HandoffError as err:
        raise ApiError(err.status, err.code, err.message) from err
    text = position_text(info.position, info.seconds) \
        if info.position is not None and info.seconds is not None else None
    return web.json_response({
        "conversation_id": cid, "status": info.status.value, "position": info.position,
        "estimated_wait_seconds": None if info.seconds is None else round(info.seconds),
        "text": text})
