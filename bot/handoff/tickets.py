"""Callback tickets and handoff outcomes (pure; no I/O).

A ticket is the city's promise to answer later (like the 115 promise: within 24 hours)::

    open ──claim──▶ claimed ──close──▶ done
      ▲                │
      └────release─────┘
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class TicketStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"


class IllegalTicketTransition(Exception):
    code = "ticket-illegal-transition"

    def __init__(self, current: TicketStatus, target: TicketStatus) -> None:
        super().__init__(f"ticket cannot move from {current} to {target}")
        self.current = current
        self.target = target


TICKET_ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.OPEN: frozenset({TicketStatus.CLAIMED, TicketStatus.DONE}),
    TicketStatus.CLAIMED: frozenset({TicketStatus.OPEN, TicketStatus.DONE}),
    TicketStatus.DONE: frozenset(),
}


def ticket_transition(current: TicketStatus, target: TicketStatus) -> TicketStatus:
    if target not in TICKET_ALLOWED[current]:
        raise IllegalTicketTransition(current, target)
    return target


class Outcome(StrEnum):
    """How staff finished a conversation or ticket."""

    RESOLVED = "resolved"
    FORWARDED = "forwarded"
    CALLBACK_NEEDED = "callback_needed"
    CALLED_BACK = "called_back"
    NOT_REACHED = "not_reached"
    NO_RESPONSE = "no_response"
    NOT_RESPONSIBLE = "not_responsible"
    ABUSIVE = "abusive"


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.RESOLVED: "Anliegen geklärt",
    Outcome.FORWARDED: "An Fachbereich weitergeleitet",
    Outcome.CALLBACK_NEEDED: "Rückruf nötig (Ticket anlegen)",
    Outcome.CALLED_BACK: "Zurückgerufen bzw. geantwortet",
    Outcome.NOT_REACHED: "Nicht erreicht",
    Outcome.NO_RESPONSE: "Keine Antwort mehr",
    Outcome.NOT_RESPONSIBLE: "Nicht zuständig",
    Outcome.ABUSIVE: "Missbräuchlich",
}
assert set(OUTCOME_LABELS) == set(Outcome)


def due_at(filed: dt.datetime, hours: float) -> dt.datetime:
    """When a ticket filed at ``filed`` must be answered."""
    return filed + dt.timedelta(hours=hours)


def is_overdue(status: TicketStatus, due: dt.datetime, now: dt.datetime) -> bool:
    return status is not TicketStatus.DONE and now >= due
