"""Errors of the handoff part: one hierarchy, stable codes, German texts for staff and citizens.

Codes are the contract (the console and outside checks read them); texts may change.
"""

from __future__ import annotations

GERMAN: dict[str, str] = {
    "conversation-not-found": "Dieses Gespräch gibt es nicht.",
    "handoff-not-queued": "Dieses Gespräch wartet nicht (mehr) auf eine Übernahme.",
    "handoff-already-claimed": "Dieses Gespräch hat bereits {holder} übernommen.",
    "handoff-not-owner": "Dieses Gespräch ist Ihnen nicht zugewiesen. Bitte übernehmen Sie es "
                         "zuerst.",
    "handoff-illegal-transition": "Dieser Schritt ist im aktuellen Zustand nicht möglich.",
    "invalid-outcome": "Bitte wählen Sie ein gültiges Ergebnis.",
    "invalid-release-target": "Ein Gespräch kann nur an den Assistenten (bot) oder in die "
                              "Warteschlange (queue) zurückgegeben werden.",
    "ticket-not-found": "Dieses Ticket gibt es nicht.",
    "ticket-already-claimed": "Dieses Ticket bearbeitet bereits {holder}.",
    "ticket-closed": "Dieses Ticket ist bereits erledigt.",
    "ticket-not-owner": "Dieses Ticket ist Ihnen nicht zugewiesen.",
    "not-a-call": "Dieses Gespräch ist kein Telefonanruf.",
}


class HandoffError(Exception):
    """Base of all handoff errors; ``status`` is the HTTP status the API answers with."""

    code = "handoff-error"
    status = 400

    def __init__(self, **params: str) -> None:
        self.params = params
        super().__init__(self.code)

    @property
    def message(self) -> str:
        return GERMAN.get(self.code, "Unbekannter Fehler.").format(**self.params)


class ConversationNotFound(HandoffError):
    code, status = "conversation-not-found", 404


class NotQueued(HandoffError):
    code, status = "handoff-not-queued", 409


class AlreadyClaimed(HandoffError):
    code, status = "handoff-already-claimed", 409

    def __init__(self, holder: str) -> None:
        super().__init__(holder=holder)
        self.holder = holder


class NotOwner(HandoffError):
    code, status = "handoff-not-owner", 409


class InvalidOutcome(HandoffError):
    code, status = "invalid-outcome", 400


class InvalidReleaseTarget(HandoffError):
    code, status = "invalid-release-target", 400


class TicketNotFound(HandoffError):
    code, status = "ticket-not-found", 404


class TicketAlreadyClaimed(HandoffError):
    code, status = "ticket-already-claimed", 409

    def __init__(self, holder: str) -> None:
        super().__init__(holder=holder)
        self.holder = holder


class TicketClosed(HandoffError):
    code, status = "ticket-closed", 409


class TicketNotOwner(HandoffError):
    code, status = "ticket-not-owner", 409


class NotACall(HandoffError):
    code, status = "not-a-call", 409
