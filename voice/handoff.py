"""Where a call goes when a person should take over: the staff queue (with the transcript) and
the route the telephony side asks for after the bot let go of the call."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.handoff.state import HandoffStatus
from bot.messages import BotMessage, HandoffRequest
from bot.store import Store
from voice.answer import LinkChannel
from voice.call import TranscriptLine


@dataclass(frozen=True, slots=True)
class HandoffOutcome:
    """``transfer``: the call is queued, someone will take it — hand it to the PBX now.
    Otherwise (nobody on duty, ...) the bot says ``messages`` and the call goes on."""

    transfer: bool
    messages: tuple[BotMessage, ...] = ()


class HandoffQueue(Protocol):
    async def enqueue(self, call_id: str, request: HandoffRequest,
                      transcript: Sequence[TranscriptLine]) -> HandoffOutcome: ...


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
                      transcript: Sequence[TranscriptLine]) -> HandoffOutcome:
        await store_transcript(self._store, call_id, transcript)
        context = {**request.to_wire(), "channel": "voice", "call_id": call_id}
        await self._store.set_handoff(call_id, HandoffStatus.QUEUED, context)
        return HandoffOutcome(transfer=True)


async def store_transcript(store: Store, call_id: str,
                           transcript: Sequence[TranscriptLine]) -> None:
    """The call so far as conversation messages (channel ``voice``), for the staff console."""
    items: list[tuple[str, str, dict[str, Any]]] = [
        ("citizen" if line.role == "caller" else "bot", line.text,
         {"confidence": line.confidence} if line.confidence is not None else {})
        for line in transcript]
    await store.append(call_id, items, channel="voice")


class PersonRequester(Protocol):
    """The gateway's escalation path (``ChatService.request_person``): service hours, the
    callback offer and the queue notice apply to calls as to chats."""

    async def request_person(self, conversation_id: str, request: HandoffRequest, *,
                             channel: str = "web") -> Any: ...


class EscalatingHandoffQueue:
    """Stores the transcript, then escalates through the gateway's gate; transfers only when
    the conversation ended up ``queued`` or ``assigned``."""

    def __init__(self, store: Store, chat: PersonRequester) -> None:
        self._store = store
        self._chat = chat

    async def enqueue(self, call_id: str, request: HandoffRequest,
                      transcript: Sequence[TranscriptLine]) -> HandoffOutcome:
        await store_transcript(self._store, call_id, transcript)
        result = await self._chat.request_person(call_id, request, channel="voice")
        view = getattr(result, "handoff", None) or {}
        status = view.get("status") if isinstance(view, dict) else None
        messages = tuple(getattr(result, "messages", ()))
        return HandoffOutcome(status in (HandoffStatus.QUEUED.value,
                                         HandoffStatus.ASSIGNED.value), messages)


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
