"""Chat turns, independent of the transport: store, ask the dialogue engine, escalate."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from bot.gateway.dialogue import RasaClient
from bot.handoff.state import BOT_SILENT, HandoffStatus
from bot.messages import BotMessage, HandoffRequest
from bot.store import Store

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ChatResult:
    conversation_id: str
    messages: tuple[BotMessage, ...]
    handoff: dict[str, Any] | None

    def to_api(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "messages": [m.to_api() for m in self.messages],
            "handoff": self.handoff,
        }


def handoff_view(status: HandoffStatus, context: dict[str, Any] | None) -> dict[str, Any] | None:
    """The chat API's ``handoff`` field: null while the bot answers."""
    if status is HandoffStatus.BOT:
        return None
    view: dict[str, Any] = {"status": status.value}
    if context:
        view.update({k: context[k] for k in ("reason", "summary", "services", "aspect")
                     if k in context})
    return view


class GateReply(Protocol):
    messages: tuple[BotMessage, ...]


class HandoffGate(Protocol):
    """The handoff part's say in a turn (implemented by :class:`bot.handoff.gate.HandoffGate`)."""

    async def before_dialogue(self, conversation_id: str, text: str, seq: int,
                              status: HandoffStatus, channel: str) -> GateReply | None: ...

    async def escalate(self, conversation_id: str, request: HandoffRequest, channel: str,
                       messages: tuple[BotMessage, ...]) -> GateReply: ...


class ChatService:
    def __init__(self, store: Store, dialogue: RasaClient) -> None:
        self._store = store
        self._dialogue = dialogue
        self._handoff: HandoffGate | None = None
        # One turn at a time per conversation, so messages keep their order.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def attach_handoff(self, gate: HandoffGate) -> None:
        """Plugged in once at start by the staff part; without it escalations only queue."""
        if self._handoff is not None:
            raise RuntimeError("handoff gate already attached")
        self._handoff = gate

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock

    async def turn(self, conversation_id: str, text: str, *, channel: str = "web") -> ChatResult:
        """Handle one citizen message. Raises DialogueUnavailable (after storing the message)."""
        async with self._lock(conversation_id):
            state = await self._store.conversation(conversation_id)
            status = state.handoff_status if state else HandoffStatus.BOT
            (seq,) = await self._store.append(conversation_id, [("citizen", text, {})],
                                              channel=channel)
            if self._handoff is not None:
                reply = await self._handoff.before_dialogue(conversation_id, text, seq, status,
                                                            channel)
                if reply is not None:  # the handoff part answered (callback form, rating, ...)
                    return await self._answer_without_dialogue(conversation_id, reply, channel)
            if status in BOT_SILENT:
                # A person owns (or is about to own) the conversation: the bot stays silent.
                log.info("gateway.chat.bot_silent", status=status.value)
                return ChatResult(conversation_id, (),
                                  handoff_view(status, state.handoff_context if state else None))
            if status is HandoffStatus.CLOSED:
                await self._store.set_handoff(conversation_id, HandoffStatus.BOT)
            messages = await self._dialogue.send(conversation_id, text, {"channel": channel})
            handoff = None
            requests = [m.handoff for m in messages if m.handoff is not None]
            if requests and self._handoff is not None:
                messages = list((await self._handoff.escalate(
                    conversation_id, requests[0], channel, tuple(messages))).messages)
                state = await self._store.conversation(conversation_id)
                handoff = handoff_view(state.handoff_status, state.handoff_context) \
                    if state else None
            elif requests:
                context = requests[0].to_wire()
                new = await self._store.set_handoff(conversation_id, HandoffStatus.QUEUED, context)
                handoff = handoff_view(new, context)
                log.info("gateway.handoff.queued", reason=requests[0].reason)
            await self._store.append(
                conversation_id,
                [("bot", m.text, m.to_api()) for m in messages if m.text or m.buttons],
                channel=channel,
            )
            return ChatResult(conversation_id, tuple(messages), handoff)

    async def request_person(self, conversation_id: str, request: HandoffRequest, *,
                             channel: str = "web") -> ChatResult:
        """The citizen asked for a person outside the dialogue (the widget's button, a key on
        the phone): the same path as an escalation by the bot, so service hours, the callback
        offer and the queue notice apply. Idempotent while a person is involved."""
        async with self._lock(conversation_id):
            await self._store.append(conversation_id, [], channel=channel)  # ensure the row
            state = await self._store.conversation(conversation_id)
            assert state is not None
            if state.handoff_status in BOT_SILENT or (
                    self._handoff is None
                    and state.handoff_status is HandoffStatus.CALLBACK_REQUESTED):
                return ChatResult(conversation_id, (),
                                  handoff_view(state.handoff_status, state.handoff_context))
            if state.handoff_status is HandoffStatus.CLOSED:
                await self._store.set_handoff(conversation_id, HandoffStatus.BOT)
            if self._handoff is not None:
                reply = await self._handoff.escalate(conversation_id, request, channel, ())
                return await self._answer_without_dialogue(conversation_id, reply, channel)
            await self._store.set_handoff(conversation_id, HandoffStatus.QUEUED,
                                          request.to_wire())
            state = await self._store.conversation(conversation_id)
            assert state is not None
            return ChatResult(conversation_id, (),
                              handoff_view(state.handoff_status, state.handoff_context))

    async def _answer_without_dialogue(self, conversation_id: str, reply: GateReply,
                                       channel: str) -> ChatResult:
        await self._store.append(
            conversation_id, [("bot", m.text, m.to_api()) for m in reply.messages],
            channel=channel)
        state = await self._store.conversation(conversation_id)
        view = handoff_view(state.handoff_status, state.handoff_context) if state else None
        return ChatResult(conversation_id, reply.messages, view)
