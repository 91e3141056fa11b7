"""Typed application state of the staff part (one key; everything else hangs off it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from bot.handoff.service import HandoffService
from bot.handoff.suggest import DialogueSuggester
from bot.staff.auth import Auth
from bot.staff.config import StaffConfig


@dataclass(frozen=True, slots=True)
class Console:
    config: StaffConfig
    auth: Auth
    handoff: HandoffService
    suggester: DialogueSuggester
    # Open live sockets, closed on shutdown so the gateway stops at once.
    sockets: set[web.WebSocketResponse] = field(default_factory=set)


CONSOLE = web.AppKey("staff_console", Console)
