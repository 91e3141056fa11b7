"""The web chat around the API: the demo page ``/``, ``/embed.js`` and static files, security
headers, allowed origins (CORS), rate limits, the widget's HTTP fallback routes and the chat
socket. ``setup(app)`` mounts all of it; ``create_app`` calls it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import mimetypes
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

import structlog
from aiohttp import hdrs, web

from bot.feedback import FeedbackStore
from bot.gateway import keys, ws
from bot.gateway.api import _conversation_id, _json_body
from bot.gateway.bus import BUS
from bot.gateway.chat import handoff_view
from bot.gateway.errors import ApiError, Handler
from bot.privacy import retention
from bot.settings import Settings
from bot.store import Store

log = structlog.get_logger(__name__)

VOICE_ASR = "/voice/asr"  # the voice line's vosk-server compatible socket (voice/web.py)
WEB_ROOT = resources.files("bot").joinpath("web")

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'self'; object-src 'none'")
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
                ".html": "text/html", ".png": "image/png", ".ico": "image/x-icon"}


@dataclass(frozen=True, slots=True)
class Asset:
    """A file of bot/web, read once: body, gzipped body, type and ETag."""

    body: bytes
    gzipped: bytes
    content_type: str
    etag: str

    @classmethod
    def load(cls, name: str) -> Asset:
        body = WEB_ROOT.joinpath(name).read_bytes()
        suffix = "." + name.rsplit(".", 1)[-1]
        content_type = STATIC_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "text/plain"
        return cls(body, gzip.compress(body, 9, mtime=0), content_type,
                   '"' + hashlib.sha256(body).hexdigest()[:20] + '"')

    def response(self, request: web.Request, cache: str) -> web.Response:
        headers = {hdrs.ETAG: self.etag, hdrs.CACHE_CONTROL: cache, hdrs.VARY: "Accept-Encoding"}
        if request.headers.get(hdrs.IF_NONE_MATCH) == self.etag:
            # With its type: the browser merges a 304's headers (the page policy) into the cache.
            return web.Response(status=304, headers={**headers,
                                                     hdrs.CONTENT_TYPE: self.content_type})
        charset = "utf-8" if self.content_type.startswith(("text/", "image/svg")) else None
        if "gzip" in request.headers.get(hdrs.ACCEPT_ENCODING, ""):
            headers[hdrs.CONTENT_ENCODING] = "gzip"
            return web.Response(body=self.gzipped, content_type=self.content_type,
                                charset=charset, headers=headers)
        return web.Response(body=self.body, content_type=self.content_type, charset=charset,
                            headers=headers)


def _assets() -> dict[str, Asset]:
    files = [p.name for p in WEB_ROOT.joinpath("static").iterdir() if p.is_file()]
    assets = {"index.html": Asset.load("index.html"), "embed.js": Asset.load("embed.js")}
    assets.update({f"static/{name}": Asset.load(f"static/{name}") for name in files})
    return assets


ASSETS = web.AppKey("web_assets", dict[str, Asset])
routes = web.RouteTableDef()


# -- pages and files -----------------------------------------------------------------------------
@routes.get("/")
async def demo_page(request: web.Request) -> web.Response:
    return request.app[ASSETS]["index.html"].response(request, "no-cache")


@routes.get("/embed.js")
async def embed_js(request: web.Request) -> web.Response:
    # Short max-age: a city that copied the script tag gets fixes within minutes.
    return request.app[ASSETS]["embed.js"].response(request, "public, max-age=300")


@routes.get("/static/{name}")
async def static_file(request: web.Request) -> web.Response:
    asset = request.app[ASSETS].get("static/" + request.match_info["name"])
    if asset is None:
        raise web.HTTPNotFound()
    return asset.response(request, "public, max-age=3600")


# -- the widget's HTTP fallback (same actions as the socket frames) ------------------------------
@routes.get("/api/v1/widget")
async def widget_config(request: web.Request) -> web.Response:
    widget = request.app[ws.WIDGET]
    return web.json_response({"socket": ws.PATH, "voice": widget.voice(),
                              "retention_days": widget.retention_days, "max_text": ws.MAX_TEXT})


@routes.post("/api/v1/conversations/{conversation_id}/feedback")
async def post_feedback(request: web.Request) -> web.Response:
    conversation_id = _conversation_id(request.match_info["conversation_id"])
    try:
        rate = ws.Rate.from_wire(await _json_body(request))
    except ws.FrameError as err:
        raise ApiError(400, err.code, err.message) from err
    if not await request.app[ws.WIDGET].feedback.rate(conversation_id, rate.seq, rate.rating):
        raise ApiError(404, "feedback-invalid", "Diese Antwort kann nicht bewertet werden.")
    return web.json_response({"seq": rate.seq, "rating": rate.rating.value})


@routes.post("/api/v1/conversations/{conversation_id}/handoff")
async def post_handoff(request: web.Request) -> web.Response:
    conversation_id = _conversation_id(request.match_info["conversation_id"])
    store = request.app[keys.STORE]
    await ws.request_person(request.app, conversation_id)
    request.app[ws.WIDGET].hub.publish(conversation_id)
    state = await store.conversation(conversation_id)
    assert state is not None
    return web.json_response({"conversation_id": conversation_id,
                              "handoff": handoff_view(state.handoff_status,
                                                      state.handoff_context)})


@routes.delete("/api/v1/conversations/{conversation_id}")
async def delete_conversation(request: web.Request) -> web.Response:
    conversation_id = _conversation_id(request.match_info["conversation_id"])
    widget = request.app[ws.WIDGET]
    if not await widget.feedback.delete_conversation(conversation_id):
        raise ApiError(404, "conversation-not-found", "Dieses Gespräch gibt es nicht.")
    widget.hub.publish(conversation_id, ws.HubEvent.DELETED)
    log.info("gateway.conversation.deleted", channel="http")
    return web.Response(status=204)


# -- origins, limits, headers --------------------------------------------------------------------
def _cross_origin(request: web.Request) -> str | None:
    """The request's Origin if it is another site than this gateway, else None."""
    origin = request.headers.get(hdrs.ORIGIN)
    if not origin or urlsplit(origin).netloc == request.host:
        return None
    return origin


def origin_allowed(request: web.Request) -> bool:
    origin = _cross_origin(request)
    allowed = request.app[keys.SETTINGS].allowed_origins
    return origin is None or "*" in allowed or origin.rstrip("/") in allowed


@web.middleware
async def guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Allowed origins, CORS preflight and per-client rate limits for ``/api/``."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    if not origin_allowed(request):
        raise ApiError(403, "origin-not-allowed",
                       "Diese Website darf den Chat nicht einbinden (Herkunft nicht erlaubt).")
    if request.method == hdrs.METH_OPTIONS:
        return web.Response(status=204, headers={
            hdrs.ACCESS_CONTROL_ALLOW_METHODS: "GET, POST, DELETE",
            hdrs.ACCESS_CONTROL_ALLOW_HEADERS: "Content-Type",
            hdrs.ACCESS_CONTROL_MAX_AGE: "600"})
    if request.path != ws.PATH:  # the socket limits itself, frame by frame
        limits = request.app[ws.WIDGET].limits
        client = ws.client_key(request)
        if request.method in (hdrs.METH_GET, hdrs.METH_HEAD):
            wait = limits.reads_per_client.take(client)
        else:
            wait = limits.writes_per_client.take(client)
            conversation_id = request.match_info.get("conversation_id")
            if conversation_id:
                wait = max(wait, limits.writes_per_conversation.take(conversation_id))
        if wait > 0:
            seconds = max(1, round(wait))
            return web.json_response(
                {"error": {"code": "rate-limited",
                           "message": "Sie haben sehr viele Anfragen in kurzer Zeit gesendet. "
                                      f"Bitte warten Sie {seconds} Sekunden."}},
                status=429, headers={hdrs.RETRY_AFTER: str(seconds)})
    return await handler(request)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.content_type == "text/html":
        headers.setdefault("Content-Security-Policy", PAGE_CSP)
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy",
                           "microphone=(self), camera=(), geolocation=(), payment=()")
    else:
        headers.setdefault("Content-Security-Policy", DATA_CSP)
    if request.path == "/embed.js" or request.path.startswith("/static/"):
        # Any city page may load the widget script and its files.
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = "*"
    else:
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    origin = _cross_origin(request)
    if request.path.startswith("/api/") and origin is not None and origin_allowed(request):
        headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        headers.add(hdrs.VARY, "Origin")


# -- lifecycle -----------------------------------------------------------------------------------
async def _purge_loop(store: Store, settings: Settings, stop: asyncio.Event) -> None:
    """Run the retention purge (bot/privacy/retention.py) now and every
    ``retention_interval_minutes`` until ``stop`` is set (never cancelled inside a store call)."""
    while not stop.is_set():
        try:
            report = await retention.purge(store, settings)
            if report.total:
                log.info("gateway.conversation.purged", count=report.conversations,
                         days=settings.retention_days, rows=report.total)
        except Exception:  # try again next interval
            log.exception("gateway.conversation.purge_failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.retention_interval_minutes * 60)


def _dictation(app: web.Application) -> Callable[[], str | None]:
    """Where the mic button sends audio: the voice line's ASR socket while it has a model."""
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    if VOICE_ASR not in paths:
        return lambda: None
    # The voice line is mounted, so voice.web is loaded already; its state knows the model.
    from voice.web import VOICE

    def ready() -> str | None:
        state = app.get(VOICE)
        return VOICE_ASR if state is not None and state.runtime is not None else None

    return ready


async def _widget_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    feedback = await FeedbackStore.open(app[keys.STORE],
                                        tracker_store_url=settings.tracker_store_url)
    limits = ws.Limits.default(client_per_minute=settings.rate_limit_client_per_minute,
                               conversation_per_minute=settings.rate_limit_conversation_per_minute)
    widget = ws.Widget(app[BUS].chat, feedback, limits, _dictation(app),
                       settings.retention_days)
    app[ws.WIDGET] = widget
    stop = asyncio.Event()
    purge = asyncio.create_task(_purge_loop(app[keys.STORE], settings, stop))
    yield
    stop.set()
    await purge
    # Sockets are closed by now; their tasks end after at most one running turn.
    if widget.tasks:
        await asyncio.wait(set(widget.tasks), timeout=app[keys.SETTINGS].rasa_timeout + 5)
    for task in set(widget.tasks):
        task.cancel()


def setup(app: web.Application) -> None:
    """Mount the web chat on the gateway (after the store's cleanup context)."""
    app[ASSETS] = _assets()
    app.middlewares.append(guard_middleware)
    app.on_response_prepare.append(_security_headers)
    app.cleanup_ctx.append(_widget_ctx)
    app.on_shutdown.append(ws.close_sockets)
    app.add_routes(routes)
    app.add_routes(ws.routes)
