"""Metrics, readiness and drain of the gateway (aiohttp).

``setup(app, settings)`` (from ``create_app``) adds the request middleware, ``GET /metrics``
and ``GET /health/ready``; ``dialogue_trace(metrics)`` times the round trips to Rasa on the
dialogue client's HTTP session; :class:`MeasuredChatService` counts chat turns;
``install_drain(app, seconds)`` (from ``serve`` only, never in tests' in-process apps) makes
SIGTERM first turn readiness to 503 and stop after ``shutdown_drain_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import aiohttp
import sqlalchemy as sa
import structlog
from aiohttp import web
from aiohttp.web_runner import GracefulExit
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.gateway import keys
from bot.gateway.chat import ChatResult, ChatService
from bot.gateway.dialogue import RasaClient
from bot.gateway.errors import ApiError
from bot.observability.access import FORBIDDEN_MESSAGE, Network, metrics_allowed, parse_networks
from bot.observability.metrics import GatewayMetrics, Outcome, classify
from bot.settings import Settings
from bot.store import Store

log = structlog.get_logger(__name__)

METRICS_PATH = "/metrics"
READY_PATH = "/health/ready"
WEBHOOK_PATH = "/webhooks/rest/webhook"
PROBE_TIMEOUT = 2.0


@dataclass(slots=True)
class Readiness:
    """Whether this gateway takes traffic; ``draining`` once shutdown has begun."""

    networks: tuple[Network, ...]
    redis_url: str = ""
    draining: bool = False


METRICS = web.AppKey("metrics", GatewayMetrics)
READINESS = web.AppKey("readiness", Readiness)

# The transport of the request being handled ("web", "ws", "voice", "staff"); WebSocket
# handlers' background tasks inherit it, so a chat turn knows whether it came over the socket.
TRANSPORT: ContextVar[str] = ContextVar("buergerbot_transport")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _route(request: web.Request) -> str:
    """The route template; unmatched paths share one label (no label per scanned URL)."""
    info = request.match_info
    if info.http_exception is not None or info.route.resource is None:
        return "unmatched"
    return info.route.resource.canonical


def _transport(route: str) -> str:
    if route.startswith("/api/v1/ws"):
        return "ws"
    if route.startswith("/voice"):
        return "voice"
    if route.startswith("/staff"):
        return "staff"
    return "web"


def _error_code(response: web.StreamResponse) -> str:
    body = getattr(response, "body", None)
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        code = json.loads(body)["error"]["code"]  # type: ignore[arg-type]
        if isinstance(code, str) and len(code) <= 40:
            return code
    return "unknown"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request by route template, method and status (outermost)."""
    metrics = request.app[METRICS]
    route = _route(request)
    transport = _transport(route)
    token = TRANSPORT.set(transport)
    started = time.perf_counter()
    status, timed = 500, True
    try:
        response = await handler(request)
        status = response.status
        timed = not isinstance(response, web.WebSocketResponse)  # a socket's lifetime is no latency
        if status == 429:
            metrics.rate_limited.labels(transport, _error_code(response)).inc()
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            status, timed = 101, False  # a socket's handler is cancelled when the peer leaves
        else:
            status = 499  # the client went away (nginx's convention)
        raise
    finally:
        TRANSPORT.reset(token)
        method = request.method if request.method in _METHODS else "other"
        metrics.http_requests.labels(route, method, str(status)).inc()
        if timed:
            metrics.http_latency.labels(route, method).observe(time.perf_counter() - started)


_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})


def count_rate_limited(app: web.Application, limit: str) -> None:
    """For limits enforced inside a WebSocket (an ``error`` frame, not an HTTP 429)."""
    metrics = app.get(METRICS)
    if metrics is not None:
        metrics.rate_limited.labels(TRANSPORT.get("ws"), limit).inc()


# -- the dialogue round trip -----------------------------------------------------------------------
def dialogue_trace(metrics: GatewayMetrics) -> aiohttp.TraceConfig:
    """Times requests to Rasa's REST webhook on the dialogue client's session (not probes)."""
    trace = aiohttp.TraceConfig()

    async def start(_s: aiohttp.ClientSession, ctx: SimpleNamespace,
                    params: aiohttp.TraceRequestStartParams) -> None:
        ctx.measured = params.url.path.endswith(WEBHOOK_PATH)
        ctx.started = time.perf_counter()

    async def end(_s: aiohttp.ClientSession, ctx: SimpleNamespace,
                  params: aiohttp.TraceRequestEndParams) -> None:
        if ctx.measured:
            result = "ok" if params.response.status == 200 else "error"
            metrics.dialogue_latency.labels(result).observe(time.perf_counter() - ctx.started)

    async def failed(_s: aiohttp.ClientSession, ctx: SimpleNamespace,
                     _params: aiohttp.TraceRequestExceptionParams) -> None:
        if ctx.measured:
            metrics.dialogue_latency.labels("error").observe(time.perf_counter() - ctx.started)

    trace.on_request_start.append(start)
    trace.on_request_end.append(end)
    trace.on_request_exception.append(failed)
    return trace


# -- chat turns --------------------------------------------------------------------------------
class MeasuredChatService(ChatService):
    """The chat service, counting turns by transport and outcome and new conversations.

    A conversation starts with its first citizen message (number 1), counted when it is stored,
    so also when the dialogue then fails; the store says so, no extra read per turn."""

    def __init__(self, store: Store, dialogue: RasaClient, metrics: GatewayMetrics) -> None:
        super().__init__(store, dialogue)
        self._metrics = metrics

    def _message_stored(self, seq: int, channel: str) -> None:
        if seq == 1:
            self._metrics.conversations_started.labels(channel).inc()

    async def turn(self, conversation_id: str, text: str, *, channel: str = "web",
                   **kwargs: Any) -> ChatResult:
        transport = TRANSPORT.get(channel)
        try:
            result = await super().turn(conversation_id, text, channel=channel, **kwargs)
        except Exception:
            self._metrics.chat_turns.labels(transport, Outcome.ERROR.value).inc()
            raise
        outcome = classify([m.to_wire() for m in result.messages], result.handoff)
        self._metrics.chat_turns.labels(transport, outcome.value).inc()
        return result


# -- handoff lifecycle -------------------------------------------------------------------------
def handoff_observer(metrics: GatewayMetrics) -> Callable[[str, str, str], None]:
    """The callback :class:`bot.handoff.service.HandoffService` reports its events to."""

    def observe(event: str, channel: str, outcome: str) -> None:
        metrics.handoff_events.labels(event, outcome).inc()
        if event in ("queued", "callback_offered"):
            metrics.conversations_escalated.labels(channel or "web").inc()

    return observe


async def _attach_handoff(app: web.Application) -> None:
    """on_startup, after the cleanup contexts: observe the staff part's handoff service."""
    from bot.staff.keys import CONSOLE

    console = app.get(CONSOLE)
    if console is not None:
        console.handoff.set_observer(handoff_observer(app[METRICS]))


# -- /metrics ----------------------------------------------------------------------------------
QUEUE_SQL = sa.text("SELECT handoff_status, COUNT(*) FROM conversations "
                    "WHERE handoff_status IN ('queued', 'assigned') GROUP BY handoff_status")


async def _refresh(app: web.Application, metrics: GatewayMetrics) -> None:
    """Gauges read at scrape time: open sockets, the handoff queue."""
    from bot.gateway.ws import WIDGET
    from bot.staff.keys import CONSOLE

    widget, console = app.get(WIDGET), app.get(CONSOLE)
    metrics.websockets_open.labels("chat").set(len(widget.sockets) if widget else 0)
    metrics.websockets_open.labels("staff").set(len(console.sockets) if console else 0)
    store = app.get(keys.STORE)
    if store is None:
        return
    try:
        async with asyncio.timeout(PROBE_TIMEOUT), store.engine.connect() as conn:
            rows = dict((await conn.execute(QUEUE_SQL)).all())
    except Exception as err:  # noqa: BLE001 - the metrics stay readable with the store down
        log.warning("gateway.metrics.queue_unavailable", error=type(err).__name__)
        return
    for status in ("queued", "assigned"):
        metrics.handoff_queue.labels(status).set(int(rows.get(status, 0)))


async def metrics_endpoint(request: web.Request) -> web.Response:
    app = request.app
    if not metrics_allowed(request.remote, request.headers, app[READINESS].networks):
        log.warning("gateway.metrics.forbidden")
        raise ApiError(403, "metrics-forbidden", FORBIDDEN_MESSAGE)
    metrics = app[METRICS]
    await _refresh(app, metrics)
    return web.Response(body=generate_latest(metrics.registry),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


# -- /health/ready -----------------------------------------------------------------------------
NOT_READY = ("Dieser Dienst ist gerade nicht bereit, Anfragen zu beantworten. Bitte versuchen "
             "Sie es in einigen Sekunden erneut.")
DRAINING = "Dieser Dienst wird gerade beendet und nimmt keine neuen Anfragen an."


async def _check(name: str, probe: Awaitable[Any]) -> tuple[str, bool, str]:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            result = await probe
    except Exception as err:  # noqa: BLE001 - any failure means "not ready"
        return name, False, type(err).__name__ or "error"
    ok = getattr(result, "ok", True)
    return name, bool(ok), getattr(result, "detail", "") if not ok else ""


async def _ping_redis(url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT,
                               socket_timeout=PROBE_TIMEOUT)
    try:
        await client.ping()
    finally:
        await client.close(close_connection_pool=True)


async def ready(request: web.Request) -> web.Response:
    """200 while this gateway can serve: store, Rasa, action server (and Redis when
    configured) answer; 503 otherwise and from the moment shutdown begins."""
    app = request.app
    state, metrics = app[READINESS], app[METRICS]
    if state.draining:
        metrics.ready.set(0)
        return web.json_response({"status": "draining", "code": "shutting-down",
                                  "message": DRAINING, "checks": {}}, status=503)
    dialogue, store = app[keys.DIALOGUE], app[keys.STORE]
    probes = [_check("database", store.ping()), _check("rasa", dialogue.check_rasa()),
              _check("action_server", dialogue.check_actions())]
    if state.redis_url:
        probes.append(_check("redis", _ping_redis(state.redis_url)))
    results = await asyncio.gather(*probes)
    checks = {name: {"ok": ok, **({"detail": detail} if detail else {})}
              for name, ok, detail in results}
    down = sorted(name for name, ok, _ in results if not ok)
    if state.draining:  # shutdown began while we were checking
        down = ["gateway"]
    metrics.ready.set(0 if down else 1)
    if down:
        return web.json_response({"status": "not_ready", "code": "not-ready", "down": down,
                                  "message": NOT_READY, "checks": checks}, status=503)
    return web.json_response({"status": "ready", "down": [], "checks": checks})


# -- drain -------------------------------------------------------------------------------------
async def _mark_draining(app: web.Application) -> None:
    app[READINESS].draining = True


def install_drain(app: web.Application, seconds: float) -> None:
    """For the gateway process (``serve``): on SIGTERM/SIGINT answer /health/ready with 503 for
    ``seconds`` while still serving, then stop as aiohttp does; a second signal stops at once.
    Registered after aiohttp's own handlers (on_startup runs after the runner set them)."""

    async def install(app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        state = app[READINESS]

        def stop() -> None:
            raise GracefulExit()

        def on_signal() -> None:
            if state.draining or seconds <= 0:
                state.draining = True
                stop()
            state.draining = True
            log.info("gateway.drain.started", seconds=seconds)
            loop.call_later(seconds, stop)

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)

    app.on_startup.append(install)


def setup(app: web.Application, settings: Settings) -> None:
    """Mount metrics and readiness (call in ``create_app`` before the app starts)."""
    app[METRICS] = GatewayMetrics()
    app[READINESS] = Readiness(parse_networks(settings.metrics_allow), settings.redis_url)
    app.middlewares.insert(0, metrics_middleware)
    app.on_startup.append(_attach_handoff)
    app.on_shutdown.insert(0, _mark_draining)
    app.router.add_get(METRICS_PATH, metrics_endpoint)
    app.router.add_get(READY_PATH, ready)
