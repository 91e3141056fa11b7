"""Events of the handoff part, fanned out to the staff console's sockets, the citizen's socket
and the voice line (one callback style, many consumers).

Publishing never blocks: each subscriber has a bounded queue; a subscriber that falls behind
gets one ``Overflow`` and should fetch a fresh snapshot (the console reloads the queue).

With several gateways (``redis_url``, bot/gateway/bus.py) the hub has a ``relay``: every event
published here is also handed to it (serialised with ``to_wire``), and events of the other
gateways come in through :meth:`EventHub.deliver` (decoded with :func:`event_from_wire`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
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

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> QueueChanged:
        return cls(_str(data, "conversation_id"), _str(data, "status"),
                   _str(data, "assigned_to", optional=True))


@dataclass(frozen=True, slots=True)
class MessageAdded:
    """A message was stored in a conversation (citizen, bot, staff or system)."""

    conversation_id: str
    message: dict[str, Any]  # StoredMessage.to_api() plus "role"

    def to_wire(self) -> dict[str, Any]:
        return {"type": "conversation.message", "conversation_id": self.conversation_id,
                "message": self.message}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> MessageAdded:
        message = data.get("message")
        if not isinstance(message, dict):
            raise TypeError("message must be an object")
        return cls(_str(data, "conversation_id"), message)


@dataclass(frozen=True, slots=True)
class TicketChanged:
    ticket_id: int
    status: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": "ticket.changed", "ticket_id": self.ticket_id, "status": self.status}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> TicketChanged:
        ticket_id = data.get("ticket_id")
        if isinstance(ticket_id, bool) or not isinstance(ticket_id, int):
            raise TypeError("ticket_id must be an integer")
        return cls(ticket_id, _str(data, "status"))


@dataclass(frozen=True, slots=True)
class CallTransferRequested:
    """Staff asked to take over a voice call; the voice line connects the audio."""

    conversation_id: str
    staff: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": "call.transfer", "conversation_id": self.conversation_id,
                "staff": self.staff}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> CallTransferRequested:
        return cls(_str(data, "conversation_id"), _str(data, "staff"))


@dataclass(frozen=True, slots=True)
class StaffPresence:
    """Who has the console open."""

    online: tuple[str, ...]

    def to_wire(self) -> dict[str, Any]:
        return {"type": "staff.presence", "online": list(self.online)}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> StaffPresence:
        online = data.get("online")
        if not isinstance(online, list) or not all(isinstance(u, str) for u in online):
            raise TypeError("online must be a list of usernames")
        return cls(tuple(online))


@dataclass(frozen=True, slots=True)
class Overflow:
    """This subscriber missed events; reload state."""

    def to_wire(self) -> dict[str, Any]:
        return {"type": "resync"}

    @classmethod
    def from_wire(cls, _data: dict[str, Any]) -> Overflow:
        return cls()


Event = (QueueChanged | MessageAdded | TicketChanged | CallTransferRequested | StaffPresence
         | Overflow)
EVENT_TYPES: dict[str, Callable[[dict[str, Any]], Event]] = {
    "queue.changed": QueueChanged.from_wire, "conversation.message": MessageAdded.from_wire,
    "ticket.changed": TicketChanged.from_wire, "call.transfer": CallTransferRequested.from_wire,
    "staff.presence": StaffPresence.from_wire, "resync": Overflow.from_wire}


def event_from_wire(data: Any) -> Event:
    """Decode ``Event.to_wire()`` output; raise ValueError or TypeError for anything else."""
    decode = EVENT_TYPES.get(data.get("type")) if isinstance(data, dict) else None
    if decode is None:
        raise ValueError("unknown event type")
    return decode(data)


def _str(data: dict[str, Any], key: str, *, optional: bool = False) -> Any:
    value = data.get(key)
    if isinstance(value, str) or (optional and value is None):
        return value
    raise TypeError(f"{key} must be a string")


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

    def resync(self) -> None:
        """Events were missed elsewhere (the bus was away): the next event is an ``Overflow``
        (what is still queued is dropped; the subscriber reloads anyway)."""
        while not self._queue.empty():
            self._queue.get_nowait()
        self._overflowed = False
        self._queue.put_nowait(Overflow())

    def get_nowait(self) -> Event | None:
        if self._queue.empty():
            if self._overflowed:
                self._overflowed = False
                return Overflow()
            return None
        return self._queue.get_nowait()


class EventHub:
    def __init__(self, queue_size: int = 1000,
                 relay: Callable[[Event], None] | None = None) -> None:
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        # Hands each published event to the other gateways (None: this process only).
        self._relay = relay

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        """Deliver to this process's subscribers and hand to the relay (never blocks)."""
        self.deliver(event)
        if self._relay is not None:
            self._relay(event)

    def deliver(self, event: Event) -> None:
        """Deliver to this process's subscribers only (events from other gateways)."""
        for sub in tuple(self._subscribers):
            sub._offer(event)

    def resync(self) -> None:
        """Every subscriber reloads (it may have missed events of other gateways)."""
        for sub in tuple(self._subscribers):
            sub.resync()

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        sub = Subscription(self._queue_size)
        self._subscribers.add(sub)
        try:
            yield sub
        finally:
            self._subscribers.discard(sub)
