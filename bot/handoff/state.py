"""The handoff lifecycle as an explicit state machine (pure; no I/O).

    bot ──escalate──▶ queued ──claim──▶ assigned ──release──▶ bot
      │                 │                  ├─────close─────▶ closed
      │                 │                  └──callback needed──┐
      └──callback──▶ callback_requested ◀──(ticket filed)───────┘ ──close──▶ closed
"""

from __future__ import annotations

from enum import StrEnum


class HandoffStatus(StrEnum):
    BOT = "bot"  # the bot answers; no person involved
    QUEUED = "queued"  # waiting for a staff member
    ASSIGNED = "assigned"  # a staff member owns the conversation; the bot is silent
    CALLBACK_REQUESTED = "callback_requested"  # nobody available: a ticket for a callback
    CLOSED = "closed"  # finished by staff with an outcome


class IllegalTransition(Exception):
    code = "handoff-illegal-transition"

    def __init__(self, current: HandoffStatus, target: HandoffStatus) -> None:
        super().__init__(f"handoff cannot move from {current} to {target}")
        self.current = current
        self.target = target


ALLOWED: dict[HandoffStatus, frozenset[HandoffStatus]] = {
    HandoffStatus.BOT: frozenset({HandoffStatus.QUEUED, HandoffStatus.CALLBACK_REQUESTED}),
    HandoffStatus.QUEUED: frozenset(
        {HandoffStatus.ASSIGNED, HandoffStatus.BOT, HandoffStatus.CALLBACK_REQUESTED,
         HandoffStatus.CLOSED}
    ),
    # ASSIGNED → CALLBACK_REQUESTED: staff finish with "callback needed" and file a ticket.
    HandoffStatus.ASSIGNED: frozenset(
        {HandoffStatus.BOT, HandoffStatus.CLOSED, HandoffStatus.QUEUED,
         HandoffStatus.CALLBACK_REQUESTED}
    ),
    HandoffStatus.CALLBACK_REQUESTED: frozenset({HandoffStatus.CLOSED, HandoffStatus.ASSIGNED}),
    # A closed conversation may be opened again by the citizen writing anew.
    HandoffStatus.CLOSED: frozenset({HandoffStatus.BOT}),
}

# While in these states the bot does not answer the citizen.
BOT_SILENT = frozenset({HandoffStatus.QUEUED, HandoffStatus.ASSIGNED})


def transition(current: HandoffStatus, target: HandoffStatus) -> HandoffStatus:
    """Return ``target`` if the move is allowed, else raise :class:`IllegalTransition`."""
    if target not in ALLOWED[current]:
        raise IllegalTransition(current, target)
    return target
