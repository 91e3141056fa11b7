"""Routes "Anruf übernehmen" from the console to the voice line: every
``CallTransferRequested`` on the handoff hub becomes a transfer of the running call to
``staff:<username>`` (the dialplan maps that to the staff member's phone)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from bot.handoff.events import CallTransferRequested, EventHub

log = structlog.get_logger(__name__)

Transfer = Callable[[str, str], Awaitable[bool]]  # (call id, target) → the call was on this line


async def route_call_transfers(hub: EventHub, transfer: Transfer) -> None:
    """Runs until cancelled (owned by the console's cleanup context)."""
    async with hub.subscribe() as events:
        while True:
            event = await events.get()
            if not isinstance(event, CallTransferRequested):
                continue
            try:
                done = await transfer(event.conversation_id, f"staff:{event.staff}")
            except Exception:  # one failed transfer must not stop the router
                log.exception("staff.call_transfer.failed", conversation=event.conversation_id)
                continue
            log.info("staff.call_transfer", conversation=event.conversation_id,
                     staff=event.staff, on_this_line=done)
