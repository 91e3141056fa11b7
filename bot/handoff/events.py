"""In-process events of the handoff part, fanned out to the staff console's sockets, the
citizen's socket and the voice line (one callback style, many consumers).

Publishing never blocks: each subscriber has a bounded queue; a subscriber that falls behind
gets one ``Overflow`` and should fetch a fresh snapshot (the console reloads the queue).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class QueueChanged:
    """A conversation entered, left or moved within the handoff queue."""

    conversation_id: str
    status: str
    assigned_to: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"type": "queue.changed", "conversation_id": self.conversation_id,
                "status": self.status, "assigned_to": self.assigned_to}


@dataclass(frozen=True, slots=True)
class MessageAdded:
    """A message was stored in a conversation (citizen, bot, staff or system)."""

    conversation_id: str
    message: dict[str, Any]  # StoredMessage.to_api() plus "role"

    def to_wire(self) -> dict[str, Any]:
        return {"type": "conversation.message", "conversation_id": self.conversation_id,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class TicketChanged:
    ticket_id: int
    status: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": "ticket.changed", "ticket_id": self.ticket_id, "status": self.status}


@dataclass(frozen=True, slots=True)
class CallTransferRequested:
    """Staff asked to take over a voice call; the voice line connects the audio."""

    conversation_id: str
    staff: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": "call.transfer", "conversation_id": self.conversation_id,
                "staff": self.staff}


@dataclass(frozen=True, slots=True)
class StaffPresence:
    """Who has the console open."""

    online: tuple[str, ...]

    def to_wire(self) -> dict[str, Any]:
        return {"type": "staff.presence", "online": list(self.online)}


@dataclass(frozen=True, slots=True)
class Overflow:
    """This subscriber missed events; reload state."""

    def to_wire(self) -> dict[str, Any]:
        return {"type": "resync"}


Event = (QueueChanged | MessageAdded | TicketChanged | CallTransferRequested | StaffPresence
         | Overflow)


class Subscription:
    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue(size)
        self._overflowed = False

    def _offer(self, event: Event) -> None:
        if self._overflowed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._overflowed = True

    async def get(self) -> Event:
        if self._overflowed and self._queue.empty():
            self._overflowed = False
            return Overflow()
        return await self._queue.get()

    def get_nowait(self) -> Event | None:
        if self._queue.empty():
            if self._overflowed:
                self._overflowed = False
                return Overflow()
            return None
        return self._queue.get_nowait()


class EventHub:
    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        for sub in tuple(self._subscribers):
            sub._offer(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        sub = Subscription(self._queue_size)
        self._subscribers.add(sub)
        try:
            yield sub
        finally:
            self._subscribers.discard(sub)
