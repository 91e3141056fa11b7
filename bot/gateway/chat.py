"""Chat turns, independent of the transport: store, ask the dialogue engine, escalate."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from bot.gateway.dialogue import RasaClient
from bot.handoff.state import BOT_SILENT, HandoffStatus
from bot.messages import BotMessage, HandoffRequest
from bot.store import ClientTurn, ConversationState, Store, TurnStatus

log = structlog.get_logger(__name__)

TurnLock = Callable[[str], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def _both(first: AbstractAsyncContextManager[Any],
                second: AbstractAsyncContextManager[Any]) -> AsyncIterator[None]:
    async with first, second:
        yield

# A repeat of a client message whose first attempt runs in another gateway waits this long for
# it (the attempt ends within the dialogue timeout), then gets TurnInProgress.
REPEAT_WAIT = 12.0
# An attempt that has not finished for this long is taken to be abandoned (its gateway died)
# and a repeat runs the turn again; the answer of at most one attempt is ever stored.
TURN_LEASE = 20.0


class TurnInProgress(Exception):
    """A repeat of a client message whose first attempt is still running elsewhere."""


class MessageIdReused(Exception):
    """A client message id already names a different message in this conversation."""


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

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ChatResult:
        """The answer stored for a client message (see :meth:`ChatService.turn`)."""
        return cls(data["conversation_id"],
                   tuple(BotMessage.from_wire(m) for m in data["messages"]), data["handoff"])


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
                              state: ConversationState | None,
                              channel: str) -> GateReply | None: ...

    async def escalate(self, conversation_id: str, request: HandoffRequest, channel: str,
                       messages: tuple[BotMessage, ...]) -> GateReply: ...


class ChatService:
    def __init__(self, store: Store, dialogue: RasaClient) -> None:
        self._store = store
        self._dialogue = dialogue
        self._handoff: HandoffGate | None = None
        # One turn at a time per conversation, so messages keep their order (with several
        # gateways across all of them: attach_turn_lock).
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._shared_lock: TurnLock | None = None

    def attach_handoff(self, gate: HandoffGate) -> None:
        """Plugged in once at start by the staff part; without it escalations only queue."""
        if self._handoff is not None:
            raise RuntimeError("handoff gate already attached")
        self._handoff = gate

    def attach_turn_lock(self, lock: TurnLock) -> None:
        """Several gateways (bot/gateway/bus.py): a turn also holds the conversation's shared
        lock, taken inside this process's own one."""
        self._shared_lock = lock

    def _lock(self, conversation_id: str) -> AbstractAsyncContextManager[Any]:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        if self._shared_lock is None:
            return lock
        return _both(lock, self._shared_lock(conversation_id))

    async def turn(self, conversation_id: str, text: str, *, channel: str = "web",
                   message_id: str | None = None) -> ChatResult:
        """Handle one citizen message. Raises DialogueUnavailable (after storing the message).

        With the client's ``message_id`` the message is stored at most once and answered at
        most once: a repeat gets the stored answer, re-runs the dialogue if the first attempt
        failed, waits for an attempt running in another gateway (up to REPEAT_WAIT, then
        TurnInProgress), and raises MessageIdReused for a different text under the same id.
        """
        if message_id is None:
            async with self._lock(conversation_id):
                state = await self._store.conversation(conversation_id)
                (seq,) = await self._store.append(conversation_id, [("citizen", text, {})],
                                                  channel=channel)
                self._message_stored(seq, channel)
                return await self._respond(conversation_id, text, seq, state, channel, None)
        deadline = asyncio.get_running_loop().time() + REPEAT_WAIT
        while True:
            async with self._lock(conversation_id):
                turn = await self._store.claim_turn(conversation_id, message_id, text,
                                                    channel=channel, lease=TURN_LEASE)
                state = turn.state
                if turn.created:
                    self._message_stored(turn.seq, channel)
                if turn.text != text:
                    raise MessageIdReused(message_id)
                if turn.status is TurnStatus.DONE and turn.result is not None:
                    log.info("gateway.chat.repeat_answered")
                    return ChatResult.from_api(turn.result)
                if turn.claimed:
                    if not turn.created:
                        log.info("gateway.chat.repeat_retried", attempt=turn.attempt)
                    try:
                        return await self._respond(conversation_id, text, turn.seq, state,
                                                   channel, turn)
                    except BaseException:
                        # Let a repeat try again at once (a dead store leaves it to the lease).
                        with contextlib.suppress(Exception):
                            await asyncio.shield(self._store.fail_turn(turn))
                        raise
            if asyncio.get_running_loop().time() >= deadline:
                raise TurnInProgress(message_id)
            await asyncio.sleep(0.2)

    def _message_stored(self, seq: int, channel: str) -> None:
        """A citizen message was stored (once per message, not for a repeat) as number ``seq``
        of its conversation; a hook for metrics."""

    async def _respond(self, conversation_id: str, text: str, seq: int,
                       state: ConversationState | None, channel: str,
                       turn: ClientTurn | None) -> ChatResult:
        """The rest of a turn once the citizen message is stored as ``seq``."""
        status = state.handoff_status if state else HandoffStatus.BOT
        if self._handoff is not None:
            reply = await self._handoff.before_dialogue(conversation_id, text, seq, state,
                                                        channel)
            if reply is not None:  # the handoff part answered (callback form, rating, ...)
                return await self._answer_without_dialogue(conversation_id, reply, channel,
                                                            turn)
        if status in BOT_SILENT:
            # A person owns (or is about to own) the conversation: the bot stays silent.
            log.info("gateway.chat.bot_silent", status=status.value)
            result = ChatResult(conversation_id, (),
                                handoff_view(status, state.handoff_context if state else None))
            return await self._finish(turn, [], result, channel)
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
        items = [("bot", m.text, m.to_api()) for m in messages if m.text or m.buttons]
        return await self._finish(turn, items, ChatResult(conversation_id, tuple(messages),
                                                          handoff), channel)

    async def _finish(self, turn: ClientTurn | None, items: list[tuple[str, str, dict[str, Any]]],
                      result: ChatResult, channel: str) -> ChatResult:
        """Store the bot's answer (with a client message: atomically with its turn's end)."""
        if turn is None:
            if items:
                await self._store.append(result.conversation_id, items, channel=channel)
            return result
        if await self._store.finish_turn(turn, items, result.to_api(), channel=channel):
            return result
        # Another attempt took the turn over (this one outlived its lease): its answer counts.
        log.warning("gateway.chat.turn_superseded", attempt=turn.attempt)
        stored = await self._store.client_turn(turn.conversation_id, turn.client_id)
        if stored is not None and stored.result is not None:
            return ChatResult.from_api(stored.result)
        raise TurnInProgress(turn.client_id)

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
                                       channel: str, turn: ClientTurn | None = None
                                       ) -> ChatResult:
        state = await self._store.conversation(conversation_id)
        view = handoff_view(state.handoff_status, state.handoff_context) if state else None
        return await self._finish(turn, [("bot", m.text, m.to_api()) for m in reply.messages],
                                  ChatResult(conversation_id, reply.messages, view), channel)
