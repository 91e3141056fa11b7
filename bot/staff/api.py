"""The console's JSON API under ``/staff/api``. Handlers validate and delegate to the handoff
service; the contract is in docs/HANDOFF.md."""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from bot.gateway.api import _conversation_id, _json_body, _text
from bot.gateway.dialogue import DialogueUnavailable
from bot.gateway.errors import ApiError
from bot.handoff.stats import supervisor_stats
from bot.handoff.tickets import OUTCOME_LABELS
from bot.staff.auth import AccountLocked, InvalidCredentials
from bot.staff.http import (
    clear_session_cookie,
    cookie_token,
    endpoint,
    locked_error,
    require_same_origin,
    set_session_cookie,
    staff_view,
)
from bot.staff.keys import CONSOLE
from bot.staff.sessions import Session

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
MAX_NOTE = 2000


def _field(body: dict[str, Any], name: str, *, limit: int = 256, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise ApiError(400, "invalid-field", f"Das Feld {name} fehlt oder ist ungültig.")
    return value


def _ticket_id(request: web.Request) -> int:
    raw = request.match_info["ticket_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError(404, "ticket-not-found", "Dieses Ticket gibt es nicht.")
    return int(raw)


# -- login ---------------------------------------------------------------------------------------
@routes.post("/staff/api/login")
async def login(request: web.Request) -> web.Response:
    require_same_origin(request)
    body = await _json_body(request)
    username = _field(body, "username", limit=64)
    password = _field(body, "password", limit=1024)
    try:
        token, session = await request.app[CONSOLE].auth.login(username, password)
    except InvalidCredentials as err:
        raise ApiError(401, "invalid-credentials",
                       "Benutzername oder Passwort ist falsch.") from err
    except AccountLocked as err:
        return locked_error(err.retry_after)
    response = web.json_response({"csrf_token": session.csrf_token,
                                  "staff": staff_view(session)})
    set_session_cookie(response, request, token)
    return response


@routes.post("/staff/api/logout")
@endpoint(write=True)
async def logout(request: web.Request, session: Session) -> web.Response:
    token = cookie_token(request)
    assert token is not None
    await request.app[CONSOLE].auth.logout(token, session)
    response = web.json_response({"ok": True})
    clear_session_cookie(response)
    return response


@routes.get("/staff/api/me")
@endpoint()
async def me(request: web.Request, session: Session) -> web.Response:
    console = request.app[CONSOLE]
    return web.json_response({
        "staff": staff_view(session), "csrf_token": session.csrf_token,
        "canned": [c.to_api() for c in console.handoff.config.canned],
        "outcomes": [{"code": o.value, "label": label} for o, label in OUTCOME_LABELS.items()],
        "service_hours": console.handoff.config.hours.describe(),
    })


# -- queue and conversations ---------------------------------------------------------------------
@routes.get("/staff/api/queue")
@endpoint()
async def queue(request: web.Request, session: Session) -> web.Response:
    service = request.app[CONSOLE].handoff
    entries = await service.queue()
    tickets = await service.tickets()
    return web.json_response({
        "queue": [e.to_api() for e in entries],
        "tickets": [t.to_api() for t in tickets],
        "staff_online": sorted(service.presence.usernames()),
    })


@routes.get("/staff/api/conversations/{conversation_id}")
@endpoint()
async def conversation(request: web.Request, session: Session) -> web.Response:
    cid = _conversation_id(request.match_info["conversation_id"])
    return web.json_response(await request.app[CONSOLE].handoff.detail(cid, session.actor))


@routes.post("/staff/api/conversations/{conversation_id}/claim")
@endpoint(write=True)
async def claim(request: web.Request, session: Session) -> web.Response:
    cid = _conversation_id(request.match_info["conversation_id"])
    took = await request.app[CONSOLE].handoff.claim(cid, session.actor)
    return web.json_response({"conversation_id": cid, "status": "assigned",
                              "assigned_to": session.actor.username, "claimed_now": took})


@routes.post("/staff/api/conversations/{conversation_id}/messages")
@endpoint(write=True)
async def post_message(request: web.Request, session: Session) -> web.Response:
    cid = _conversation_id(request.match_info["conversation_id"])
    body = await _json_body(request)
    if "text" not in body:
        raise ApiError(400, "missing-field", "Das Feld text fehlt.")
    message = await request.app[CONSOLE].handoff.post(cid, session.actor, _text(body["text"]))
    return web.json_response({"conversation_id": cid, "message": message.to_api()})


@routes.post("/staff/api/conversations/{conversation_id}/release")
@endpoint(write=True)
async def release(request: web.Request, session: Session) -> web.Response:
    cid = _conversation_id(request.match_info["conversation_id"])
    body = await _json_body(request)
    to = body.get("to", "bot")
    status = await request.app[CONSOLE].handoff.release(cid, session.actor,
                                                        to if isinstance(to, str) else "")
    return web.json_response({"conversation_id": cid, "status": status.value})


@routes.post("/staff/api/conversations/{conversation_id}/close")
@endpoint(write=True)
async def close(request: web.Request, session: Session) -> web.Response:
    cid = _conversation_id(request.match_info["conversation_id"])
    body = await _json_body(request)
    outcome = _field(body, "outcome", limit=32)
    note = _field(body, "note", limit=MAX_NOTE, required=False) or None
    callback = body.get("callback")
    contact: dict[str, str] | None = None
    if isinstance(callback, dict):
        contact = {k: v[:254] for k in ("name", "phone", "email")
                   if isinstance(v := callback.get(k), str) and v.strip()}
    status = await request.app[CONSOLE].handoff.close(cid, session.actor, outcome, note, contact)
    return web.json_response({"conversation_id": cid, "status": status.value})


@routes.post("/staff/api/conversations/{conversation_id}/transfer")
@endpoint(write=True)
async def transfer(request: web.Request, session: Session) -> web.Response:
    cid = _conversation_id(request.match_info["conversation_id"])
    await request.app[CONSOLE].handoff.transfer_call(cid, session.actor)
    return web.json_response({"conversation_id": cid, "status": "assigned",
                              "transfer": "requested"})


@routes.get("/staff/api/conversations/{conversation_id}/suggestions")
@endpoint()
async def suggestions(request: web.Request, session: Session) -> web.Response:
    cid = _conversation_id(request.match_info["conversation_id"])
    console = request.app[CONSOLE]
    question = await console.handoff.last_citizen_text(cid, session.actor)
    if not question:
        return web.json_response({"question": None, "suggestions": [], "available": True})
    try:
        answers = await console.suggester.suggest(cid, question)
    except DialogueUnavailable:
        return web.json_response({"question": question, "suggestions": [], "available": False})
    return web.json_response({"question": question, "available": True,
                              "suggestions": [m.to_api() for m in answers]})


# -- tickets -------------------------------------------------------------------------------------
@routes.get("/staff/api/tickets")
@endpoint()
async def tickets(request: web.Request, session: Session) -> web.Response:
    include_done = request.query.get("all") in ("1", "true")
    found = await request.app[CONSOLE].handoff.tickets(include_done=include_done)
    return web.json_response({"tickets": [t.to_api() for t in found]})


@routes.post("/staff/api/tickets/{ticket_id}/claim")
@endpoint(write=True)
async def claim_ticket(request: web.Request, session: Session) -> web.Response:
    ticket_id = _ticket_id(request)
    took = await request.app[CONSOLE].handoff.claim_ticket(ticket_id, session.actor)
    return web.json_response({"ticket_id": ticket_id, "status": "claimed", "claimed_now": took})


@routes.post("/staff/api/tickets/{ticket_id}/release")
@endpoint(write=True)
async def release_ticket(request: web.Request, session: Session) -> web.Response:
    ticket_id = _ticket_id(request)
    await request.app[CONSOLE].handoff.release_ticket(ticket_id, session.actor)
    return web.json_response({"ticket_id": ticket_id, "status": "open"})


@routes.post("/staff/api/tickets/{ticket_id}/close")
@endpoint(write=True)
async def close_ticket(request: web.Request, session: Session) -> web.Response:
    ticket_id = _ticket_id(request)
    body = await _json_body(request)
    outcome = _field(body, "outcome", limit=32)
    note = _field(body, "note", limit=MAX_NOTE, required=False) or None
    await request.app[CONSOLE].handoff.close_ticket(ticket_id, session.actor, outcome, note)
    return web.json_response({"ticket_id": ticket_id, "status": "done"})


# -- supervisor ----------------------------------------------------------------------------------
@routes.get("/staff/api/stats")
@endpoint(supervisor=True)
async def stats(request: web.Request, session: Session) -> web.Response:
    raw = request.query.get("days", "7")
    if not raw.isdigit() or not 1 <= int(raw) <= 366:
        raise ApiError(400, "invalid-days", "Der Zeitraum muss 1 bis 366 Tage sein.")
    service = request.app[CONSOLE].handoff
    return web.json_response(await supervisor_stats(service, days=int(raw)))
