"""Who acts on a handoff, and the read models the console shows (plain frozen dataclasses)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class StaffRole(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class Actor:
    """A logged-in staff member (or ``system``)."""

    username: str
    display_name: str
    role: StaffRole = StaffRole.AGENT

    @property
    def is_supervisor(self) -> bool:
        return self.role is StaffRole.SUPERVISOR


SYSTEM = Actor("system", "System", StaffRole.SUPERVISOR)


def iso(value: dt.datetime | None) -> str | None:
    """Naive UTC from the store → ISO 8601 with offset."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


@dataclass(frozen=True, slots=True)
class QueueEntry:
    conversation_id: str
    channel: str
    status: str  # queued | assigned
    assigned_to: str | None
    reason: str
    summary: str
    services: tuple[str, ...]
    aspect: str | None
    queued_at: dt.datetime
    waiting_seconds: float
    position: int | None  # 1 = next; None once assigned
    last_citizen_text: str
    message_count: int

    def to_api(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id, "channel": self.channel,
            "status": self.status, "assigned_to": self.assigned_to, "reason": self.reason,
            "summary": self.summary, "services": list(self.services), "aspect": self.aspect,
            "waiting_since": iso(self.queued_at), "waiting_seconds": round(self.waiting_seconds),
            "position": self.position, "last_citizen_text": self.last_citizen_text,
            "message_count": self.message_count,
        }


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    conversation_id: str
    channel: str
    status: str
    name: str
    phone: str | None
    email: str | None
    topic: dict[str, Any]
    created_at: dt.datetime
    due_at: dt.datetime
    claimed_by: str | None
    closed_at: dt.datetime | None
    outcome: str | None
    note: str | None
    overdue: bool

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id, "conversation_id": self.conversation_id, "channel": self.channel,
            "status": self.status, "name": self.name, "phone": self.phone, "email": self.email,
            "summary": self.topic.get("summary", ""), "services": self.topic.get("services", []),
            "reason": self.topic.get("reason"), "created_at": iso(self.created_at),
            "due_at": iso(self.due_at), "claimed_by": self.claimed_by,
            "closed_at": iso(self.closed_at), "outcome": self.outcome, "note": self.note,
            "overdue": self.overdue,
        }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: dt.datetime
    actor: str
    action: str
    conversation_id: str | None
    ticket_id: int | None
    detail: dict[str, Any]

    def to_api(self) -> dict[str, Any]:
        return {"at": iso(self.at), "actor": self.actor, "action": self.action,
                "conversation_id": self.conversation_id, "ticket_id": self.ticket_id,
                "detail": self.detail}
