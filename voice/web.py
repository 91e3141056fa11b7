"""The voice line inside the gateway: routes, typed app state and the one cleanup context that
owns the voice runtime (and, if configured, the AudioSocket server).

    from voice.web import VoiceDeps, add_routes
    add_routes(app, voice_settings, deps_factory, audiosocket=(host, port))

Routes: ``GET /voice`` (the browser page), ``/voice/ws`` (its WebSocket), ``/voice/asr``
(vosk-server compatible WebSocket), ``GET /voice/calls/{call_id}/route`` (what the PBX does with
a call the bot released; ``?format=text`` for Asterisk's CURL()), ``/voice/static/...``.
Without a usable Vosk model the gateway still starts; the voice routes answer 503 with
``asr-model-missing``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from aiohttp import web

from voice.audiosocket import AudioSocketServer, CallServices
from voice.browser import handle_browser_call
from voice.errors import VoiceError
from voice.events import EventCallback
from voice.handoff import HandoffQueue, LinkSender
from voice.pipeline import Dialogue
from voice.runtime import VoiceRuntime, open_runtime
from voice.settings import VoiceSettings
from voice.vosk_ws import handle_vosk_connection

log = structlog.get_logger(__name__)

STATIC = Path(__file__).parent / "static"

_UNAVAILABLE = {
    "asr-model-missing": "Die Sprachsteuerung ist nicht eingerichtet: Es fehlt das "
                         "Spracherkennungsmodell.",
    "tts-engine-unavailable": "Die Sprachausgabe ist nicht eingerichtet.",
    "voice-busy": "Gerade sind alle Leitungen belegt. Bitte versuchen Sie es später noch einmal.",
}


@dataclass(frozen=True, slots=True)
class VoiceDeps:
    """What a call needs from the rest of the gateway."""

    dialogue: Dialogue
    handoff: HandoffQueue
    links: LinkSender | None = None
    on_event: EventCallback | None = None


DepsFactory = Callable[[web.Application], VoiceDeps]


@dataclass(slots=True)
class VoiceState:
    settings: VoiceSettings
    deps_factory: DepsFactory
    audiosocket: tuple[str, int] | None = None
    runtime: VoiceRuntime | None = None
    deps: VoiceDeps | None = None
    unavailable: str | None = None  # an error code while the voice line cannot work
    server: AudioSocketServer | None = field(default=None)


VOICE = web.AppKey("voice", VoiceState)


async def _voice_ctx(app: web.Application) -> AsyncIterator[None]:
    state = app[VOICE]
    async with contextlib.AsyncExitStack() as stack:
        runtime: VoiceRuntime | None
        try:
            runtime = await stack.enter_async_context(open_runtime(state.settings))
        except VoiceError as err:
            # The chat must not go down because the voice line is not set up.
            log.warning("voice.disabled", code=err.code)
            state.unavailable = err.code
            runtime = None
        if runtime is not None:
            state.runtime = runtime
            state.deps = state.deps_factory(app)
            if state.audiosocket is not None:
                services = CallServices(runtime, state.deps.dialogue, state.deps.handoff,
                                        state.deps.links, state.deps.on_event)
                server = AudioSocketServer(services)
                await server.start(*state.audiosocket)
                stack.push_async_callback(server.close)
                state.server = server
        yield
        state.runtime = None


def _unavailable(code: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": _UNAVAILABLE.get(code, "Nicht verfügbar.")}},
        status=503)


def _ready(request: web.Request) -> tuple[VoiceRuntime, VoiceDeps] | web.Response:
    state = request.app[VOICE]
    if state.runtime is None or state.deps is None:
        return _unavailable(state.unavailable or "asr-model-missing")
    if state.runtime.calls.locked():
        return _unavailable("voice-busy")
    return state.runtime, state.deps


async def voice_page(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "voice.html",
                            headers={"Cache-Control": "no-cache",
                                     "Content-Type": "text/html; charset=utf-8"})


async def browser_ws(request: web.Request) -> web.StreamResponse:
    ready = _ready(request)
    if isinstance(ready, web.Response):
        return ready
    runtime, deps = ready
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=256 * 1024)
    await ws.prepare(request)
    async with runtime.calls:
        await handle_browser_call(ws, runtime, dialogue=deps.dialogue, handoff=deps.handoff,
                                  links=deps.links, on_event=deps.on_event)
    return ws


async def vosk_ws(request: web.Request) -> web.StreamResponse:
    ready = _ready(request)
    if isinstance(ready, web.Response):
        return ready
    runtime, _ = ready
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=1024 * 1024)
    await ws.prepare(request)
    async with runtime.calls:
        await handle_vosk_connection(ws, runtime)
    return ws


async def call_route(request: web.Request) -> web.Response:
    state = request.app[VOICE]
    call_id = request.match_info["call_id"]
    route = state.runtime.routes.get(call_id) if state.runtime is not None else None
    if request.query.get("format") == "text":
        # Asterisk: Set(ROUTE=${CURL(.../voice/calls/${UUID}/route?format=text)})
        return web.Response(text=route.to_text() if route else "unknown")
    if route is None:
        return web.json_response({"error": {"code": "voice-call-unknown",
                                            "message": "Dieser Anruf ist nicht bekannt."}},
                                 status=404)
    return web.json_response(route.to_wire())


async def transfer_call(app: web.Application, call_id: str, target: str) -> bool:
    """For the handoff hub's ``CallTransferRequested``: hand a running call to ``target``
    (e.g. ``staff:anna``; the dialplan maps it). False if the call is not on this line."""
    state = app.get(VOICE)
    if state is None or state.runtime is None:
        return False
    return await state.runtime.active.transfer(call_id, target)


def add_routes(app: web.Application, settings: VoiceSettings, deps_factory: DepsFactory, *,
               audiosocket: tuple[str, int] | None = None) -> None:
    """Mount the voice line on the gateway app. Call after the gateway's own cleanup contexts
    are registered: ``deps_factory(app)`` runs at start-up, when the dialogue client and the
    store exist."""
    app[VOICE] = VoiceState(settings, deps_factory, audiosocket)
    app.cleanup_ctx.append(_voice_ctx)
    app.router.add_get("/voice", voice_page)
    app.router.add_get("/voice/ws", browser_ws)
    app.router.add_get("/voice/asr", vosk_ws)
    app.router.add_get("/voice/calls/{call_id}/route", call_route)
    app.router.add_static("/voice/static", STATIC)


def create_voice_app(settings: VoiceSettings, deps_factory: DepsFactory, *,
                     audiosocket: tuple[str, int] | None = None) -> web.Application:
    """A stand-alone app with only the voice line (for tests and a separate voice process)."""
    app = web.Application(client_max_size=64 * 1024)
    add_routes(app, settings, deps_factory, audiosocket=audiosocket)
    return app
