"""The staff console: accounts, login sessions, the JSON API under ``/staff/api``, the live
queue socket and the console page. ``setup(app)`` mounts everything on the gateway."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web


def setup(app: web.Application) -> None:
    # Imported here so that ``bot.staff.cli`` (the command line) stays light.
    from bot.staff.mount import setup as mount

    mount(app)
