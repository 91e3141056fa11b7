"""What every console endpoint needs: the session cookie, CSRF and origin checks, roles, and the
translation of handoff errors into API errors (stable code + German message)."""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import hdrs, web

from bot.gateway.errors import ApiError
from bot.handoff.errors import HandoffError
from bot.staff.keys import CONSOLE
from bot.staff.sessions import Session

COOKIE = "buergerbot_staff"
SECURE_COOKIE = "__Host-buergerbot_staff"  # browsers accept it only with Secure and Path=/
CSRF_HEADER = "X-CSRF-Token"

NOT_LOGGED_IN = ApiError(401, "not-authenticated", "Bitte melden Sie sich an.")


def is_tls(request: web.Request) -> bool:
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    config = request.app[CONSOLE].config
    secure = is_tls(request) if config.cookie_secure is None else config.cookie_secure
    max_age = int(config.session_hours * 3600)
    if secure:
        response.set_cookie(SECURE_COOKIE, token, path="/", secure=True, httponly=True,
                            samesite="Strict", max_age=max_age)
    else:
        response.set_cookie(COOKIE, token, path="/staff", httponly=True, samesite="Strict",
                            max_age=max_age)


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/staff")
    response.del_cookie(SECURE_COOKIE, path="/")


def cookie_token(request: web.Request) -> str | None:
    token = request.cookies.get(SECURE_COOKIE) or request.cookies.get(COOKIE)
    return token if token and len(token) <= 128 else None


async def current_session(request: web.Request) -> Session | None:
    token = cookie_token(request)
    if token is None:
        return None
    return await request.app[CONSOLE].auth.session(token)


def same_origin(request: web.Request) -> bool:
    """True unless the browser says the request comes from another site."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:  # not sent by browsers for same-origin GETs, nor by scripts
        return True
    return urlsplit(origin).netloc == request.host


def require_same_origin(request: web.Request) -> None:
    if not same_origin(request):
        raise ApiError(403, "origin-not-allowed",
                       "Diese Anfrage kommt von einer fremden Seite und wurde abgelehnt.")


Endpoint = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]


def endpoint(*, write: bool = False,
             supervisor: bool = False) -> Callable[[Endpoint], Callable[[web.Request],
                                                                      Awaitable[web.StreamResponse]]]:
    """Wrap a console handler: a live session always; for state changes also the same origin
    and the session's CSRF token; optionally the supervisor role."""

    def wrap(fn: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @functools.wraps(fn)
        async def handler(request: web.Request) -> web.StreamResponse:
            session = await current_session(request)
            if session is None:
                raise NOT_LOGGED_IN
            if write:
                require_same_origin(request)
                if not session.csrf_ok(request.headers.get(CSRF_HEADER)):
                    raise ApiError(403, "csrf-invalid",
                                   "Die Sicherheitsprüfung (CSRF) ist fehlgeschlagen. Bitte "
                                   "laden Sie die Seite neu.")
            if supervisor and not session.actor.is_supervisor:
                raise ApiError(403, "forbidden", "Diese Ansicht ist der Teamleitung "
                                                 "vorbehalten.")
            try:
                return await fn(request, session)
            except HandoffError as err:
                raise ApiError(err.status, err.code, err.message) from err

        return handler

    return wrap


def locked_error(retry_after: float) -> web.Response:
    minutes = max(1, math.ceil(retry_after / 60))
    return web.json_response(
        {"error": {"code": "account-locked",
                   "message": "Zu viele Fehlversuche. Die Anmeldung ist für "
                              f"{minutes} Minute{'n' if minutes != 1 else ''} gesperrt."}},
        status=429, headers={hdrs.RETRY_AFTER: str(math.ceil(retry_after))})


def staff_view(session: Session) -> dict[str, Any]:
    actor = session.actor
    return {"username": actor.username, "display_name": actor.display_name,
            "role": actor.role.value}
