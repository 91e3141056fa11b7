import datetime as dt

import pytest

from bot.handoff.tickets import (
    OUTCOME_LABELS,
    TICKET_ALLOWED,
    IllegalTicketTransition,
    Outcome,
    TicketStatus,
    due_at,
    is_overdue,
    ticket_transition,
)


def test_ticket_lifecycle() -> None:
    s = ticket_transition(TicketStatus.OPEN, TicketStatus.CLAIMED)
    s = ticket_transition(s, TicketStatus.OPEN)
    s = ticket_transition(s, TicketStatus.CLAIMED)
    assert ticket_transition(s, TicketStatus.DONE) is TicketStatus.DONE
    assert set(TICKET_ALLOWED) == set(TicketStatus)
    with pytest.raises(IllegalTicketTransition):
        ticket_transition(TicketStatus.DONE, TicketStatus.OPEN)


def test_due_and_overdue() -> None:
    filed = dt.datetime(2026, 6, 10, 20, 0)
    due = due_at(filed, 24)
    assert due == dt.datetime(2026, 6, 11, 20, 0)
    assert not is_overdue(TicketStatus.OPEN, due, due - dt.timedelta(seconds=1))
    assert is_overdue(TicketStatus.CLAIMED, due, due)
    assert not is_overdue(TicketStatus.DONE, due, due + dt.timedelta(days=3))


def test_every_outcome_has_a_german_label() -> None:
    assert set(OUTCOME_LABELS) == set(Outcome)
