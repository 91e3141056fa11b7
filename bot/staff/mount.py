"""Mount the staff part on the gateway: ``setup(app)`` adds the routes and one cleanup context
that owns the handoff service, the event hub, the auth executor and the console state."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from zoneinfo import ZoneInfoNotFoundError

import structlog
from aiohttp import web

from bot.gateway import keys, ws
from bot.gateway.bus import BUS
from bot.handoff.config import HandoffConfig
from bot.handoff.gate import HandoffGate
from bot.handoff.hours import HoursError, ServiceHours
from bot.handoff.service import HandoffService, utcnow
from bot.handoff.suggest import DialogueSuggester
from bot.settings import Settings, SettingsError
from bot.staff import api, citizen, live, pages
from bot.staff.accounts import Accounts
from bot.staff.auth import Auth
from bot.staff.calls import route_call_transfers
from bot.staff.config import StaffConfig
from bot.staff.keys import CONSOLE, Console
from bot.staff.lockout import LockoutPolicy
from bot.staff.passwords import Passwords
from bot.staff.sessions import Sessions

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Options:
    """What the staff part is built from; tests replace it before the app starts."""

    staff: StaffConfig = field(default_factory=StaffConfig)
    handoff: HandoffConfig = field(default_factory=HandoffConfig)
    clock: Callable[[], dt.datetime] = utcnow
    # Hands a running call to a staff member; default: the voice line in this gateway.
    transfer: Callable[[str, str], Awaitable[bool]] | None = None


OPTIONS = web.AppKey("staff_options", Options)


def options_from_settings(settings: Settings) -> Options:
    """The handoff and console configuration from the one settings object."""
    try:
        hours = ServiceHours.parse(settings.service_hours, settings.holidays, settings.timezone)
    except (HoursError, ZoneInfoNotFoundError, ValueError) as err:
        raise SettingsError(f"BUERGERBOT_SERVICE_HOURS/HOLIDAYS/TIMEZONE: {err}") from err
    return Options(
        staff=StaffConfig(lockout_attempts=settings.staff_lockout_attempts,
                          lockout_minutes=settings.staff_lockout_minutes),
        handoff=HandoffConfig(hours=hours, ticket_due_hours=settings.ticket_due_hours,
                              require_staff_online=settings.require_staff_online),
    )


def _tell_citizen(app: web.Application) -> Callable[[str], None]:
    """Wake the citizen's chat sockets on a conversation (the widget's pub/sub)."""

    def tell(conversation_id: str) -> None:
        widget = app.get(ws.WIDGET)
        if widget is not None:
            widget.hub.publish(conversation_id)

    return tell


def _voice_transfer(app: web.Application) -> Callable[[str, str], Awaitable[bool]]:
    async def transfer(call_id: str, target: str) -> bool:
        # Imported on the first transfer only: the voice line is optional and heavy (Vosk).
        from voice.web import transfer_call

        return await transfer_call(app, call_id, target)

    return transfer


async def _console_ctx(app: web.Application) -> AsyncIterator[None]:
    options = app[OPTIONS]
    store = app[keys.STORE]
    bus = app[BUS]  # events and presence: this gateway's, or shared by all through Redis
    service = HandoffService(store, bus.events, options.handoff, bus.presence,
                             clock=options.clock, notify_citizen=_tell_citizen(app))
    store.add_handoff_listener(service)
    app[keys.CHAT].attach_handoff(HandoffGate(service))
    config = options.staff
    with ThreadPoolExecutor(config.hash_workers, thread_name_prefix="staff-auth") as executor:
        loop = asyncio.get_running_loop()
        passwords = await loop.run_in_executor(executor, Passwords, config)
        sessions = Sessions(store.engine, dt.timedelta(hours=config.session_hours),
                            dt.timedelta(minutes=config.idle_minutes))
        auth = Auth(store.engine, Accounts(store.engine), sessions, passwords,
                    LockoutPolicy(config.lockout_attempts, config.lockout_minutes), executor,
                    options.clock)
        app[CONSOLE] = Console(config, auth, service, DialogueSuggester(app[keys.DIALOGUE]))
        calls = asyncio.create_task(route_call_transfers(service.hub, options.transfer
                                                         or _voice_transfer(app)))
        log.info("staff.console.ready")
        yield
        calls.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await calls


async def _no_store(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/staff/api/"):
        response.headers["Cache-Control"] = "no-store"


def setup(app: web.Application) -> None:
    """Mount the console (after the store, dialogue and web-chat contexts)."""
    app[OPTIONS] = options_from_settings(app[keys.SETTINGS])
    app[pages.STAFF_ASSETS] = pages.load_assets()
    app.cleanup_ctx.append(_console_ctx)
    app.on_response_prepare.append(_no_store)
    app.on_shutdown.append(live.close_all)
    for table in (api.routes, live.routes, pages.routes, citizen.routes):
        app.add_routes(table)
