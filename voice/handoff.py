"""Where a call goes when a person should take over: the staff queue (with the transcript) and
the route the telephony side asks for after the bot let go of the call."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.handoff.state import HandoffStatus
from bot.messages import HandoffRequest
from bot.store import Store
from voice.answer import LinkChannel
from voice.call import TranscriptLine


class HandoffQueue(Protocol):
    async def enqueue(self, call_id: str, request: HandoffRequest,
                      transcript: Sequence[TranscriptLine]) -> None: ...


class LinkSender(Protocol):
    async def send(self, call_id: str, channel: LinkChannel, links: Sequence[str]) -> bool: ...


class NoLinkSender:
    """No SMS or e-mail gateway configured: the caller is told where to find the page."""

    async def send(self, call_id: str, channel: LinkChannel, links: Sequence[str]) -> bool:
        return False


class StoreHandoffQueue:
    """Puts the call into the gateway's staff queue: transcript as messages, then ``queued``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def enqueue(self, call_id: str, request: HandoffRequest,
                      transcript: Sequence[TranscriptLine]) -> None:
        items: list[tuple[str, str, dict[str, Any]]] = [
            ("citizen" if line.role == "caller" else "bot", line.text,
             {"confidence": line.confidence} if line.confidence is not None else {})
            for line in transcript]
        await self._store.append(call_id, items, channel="voice")
        context = {**request.to_wire(), "channel": "voice", "call_id": call_id}
        await self._store.set_handoff(call_id, HandoffStatus.QUEUED, context)


@dataclass(frozen=True, slots=True)
class Route:
    """What the telephony side should do with a call the bot released."""

    action: str  # transfer, hangup
    target: str = ""

    def to_wire(self) -> dict[str, str]:
        return {"action": self.action, "target": self.target}

    def to_text(self) -> str:
        """For Asterisk's CURL(): ``transfer staff`` or ``hangup``."""
        return f"{self.action} {self.target}".strip()


class CallRoutes:
    """Recent routes by call id (bounded), asked for by the dialplan after AudioSocket() ends."""

    def __init__(self, size: int = 1000) -> None:
        self._size = size
        self._routes: OrderedDict[str, Route] = OrderedDict()

    def set(self, call_id: str, route: Route) -> None:
        self._routes[call_id] = route
        self._routes.move_to_end(call_id)
        while len(self._routes) > self._size:
            self._routes.popitem(last=False)

    def get(self, call_id: str) -> Route | None:
        return self._routes.get(call_id)
