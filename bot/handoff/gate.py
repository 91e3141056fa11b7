"""What the chat service asks the handoff part on every citizen turn (the transport-independent
seam between ``bot.gateway.chat`` and the handoff lifecycle).

* ``before_dialogue``: runs before the dialogue engine. Shows the citizen's message to staff
  live, runs the callback form, lets a waiting citizen leave the queue or ask for a callback,
  and takes the 1–5 rating after a hand-back. Returns the answer if it handled the turn.
* ``escalate``: the dialogue engine asked for a person. Queue (with place and rough wait) when
  someone can take over; otherwise offer a callback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import structlog

from bot.handoff import repo, texts
from bot.handoff.callback import CallbackForm, FormStep, FormTurn, advance, filed_message, offer
from bot.handoff.estimate import position_text
from bot.handoff.events import MessageAdded
from bot.handoff.hours import format_local
from bot.handoff.service import HandoffService
from bot.handoff.state import HandoffStatus, IllegalTransition
from bot.handoff.tickets import TicketStatus
from bot.messages import BotMessage, HandoffRequest
from bot.store import ConversationState

log = structlog.get_logger(__name__)

_RATING = re.compile(r'^/handoff_rating\{"score":\s*([1-5])\}$')
_CALLBACK_WORDS = {"rückruf", "rueckruf", "rückruf bitte", "bitte rückruf", "callback"}
_LEAVE_WORDS = {"abbrechen", "warteschlange verlassen", "/handoff_cancel"}


@dataclass(frozen=True, slots=True)
class GateReply:
    messages: tuple[BotMessage, ...]


class HandoffGate:
    def __init__(self, service: HandoffService) -> None:
        self._service = service
        self._store = service.store

    async def before_dialogue(self, cid: str, text: str, seq: int,
                              state: ConversationState | None,
                              channel: str) -> GateReply | None:
        """``state``: the conversation as read when the turn began (None: a new one)."""
        service = self._service
        status = state.handoff_status if state else HandoffStatus.BOT
        if status in (HandoffStatus.QUEUED, HandoffStatus.ASSIGNED):
            (message,) = await self._store.messages(cid, after=seq - 1, limit=1)
            service.hub.publish(MessageAdded(cid, message.to_api()))
        form_data = state.callback_form if state else None
        plain = text.strip().lower().strip(" .!")
        if form_data is not None:
            return await self._form_turn(cid, advance(CallbackForm.from_json(form_data), text),
                                         channel)
        if status is HandoffStatus.QUEUED:
            if plain in _LEAVE_WORDS:
                await service.cancel_waiting(cid)
                return GateReply((BotMessage(texts.CANCELLED_WAITING),))
            if plain in _CALLBACK_WORDS:
                context = (await self._store.conversation(cid))
                topic = (context.handoff_context or {}) if context else {}
                return await self._form_turn(cid, FormTurn(
                    (BotMessage("Gerne melden wir uns bei Ihnen. Wie ist Ihr Name?"),),
                    CallbackForm(FormStep.NAME, topic)), channel)
            return None
        if status in (HandoffStatus.BOT, HandoffStatus.CLOSED):
            return await self._rating(cid, text, seq)
        return None

    async def escalate(self, cid: str, request: HandoffRequest, channel: str,
                       messages: tuple[BotMessage, ...]) -> GateReply:
        service = self._service
        state = await self._store.conversation(cid)
        status = state.handoff_status if state else HandoffStatus.BOT
        others = tuple(m for m in messages if m.handoff is None)
        if status is HandoffStatus.CALLBACK_REQUESTED:
            open_tickets = [t for t in await service.tickets() if t.conversation_id == cid
                            and t.status != TicketStatus.DONE.value]
            if open_tickets:
                t = open_tickets[-1]
                return GateReply((*others, BotMessage(texts.TICKET_EXISTS.format(
                    ticket=t.id, due=service.due_text(t.due_at)))))
        now = service.clock()
        hours = service.config.hours
        why = None
        if not hours.is_open(now):
            opening = hours.next_opening(now)
            why = texts.CLOSED_HOURS.format(
                hours=hours.describe(),
                next=f"; wieder ab {format_local(opening, hours.zone)}" if opening else "")
        elif service.config.require_staff_online and service.presence.count() == 0:
            why = texts.NOBODY_ONLINE
        if why is not None:
            log.info("handoff.callback_offered", channel=channel,
                     closed=not hours.is_open(now))
            await service.record_callback_offer(cid, request.to_wire(), channel)
            turn = offer(request.to_wire(), why, service.config.ticket_due_hours)
            reply = await self._form_turn(cid, turn, channel)
            return GateReply((*others, *reply.messages))
        try:
            await self._store.set_handoff(cid, HandoffStatus.QUEUED, request.to_wire())
        except IllegalTransition as err:  # a concurrent turn escalated first
            log.info("handoff.escalation_raced", status=err.current.value)
        waiting = await service.waiting(cid)
        log.info("gateway.handoff.queued", reason=request.reason, channel=channel)
        notice = []
        if waiting.position is not None and waiting.seconds is not None:
            notice.append(BotMessage(f"{position_text(waiting.position, waiting.seconds)} "
                                     f"{texts.QUEUE_HINT}"))
        return GateReply((*messages, *notice))

    async def _form_turn(self, cid: str, turn: FormTurn, channel: str) -> GateReply:
        service = self._service
        if turn.file_ticket:
            async with self._store.engine.connect() as conn:
                data = await repo.get_form(conn, cid)
            assert data is not None
            ticket_id, due = await service.file_ticket(cid, CallbackForm.from_json(data), channel)
            return GateReply((filed_message(ticket_id, service.due_text(due)),))
        async with self._store.engine.begin() as conn:
            if turn.form is None:
                await repo.delete_form(conn, cid)
            else:
                await repo.save_form(conn, cid, turn.form.to_json(), service.clock())
        return GateReply(turn.messages)

    async def _rating(self, cid: str, text: str, seq: int) -> GateReply | None:
        match = _RATING.fullmatch(text.strip())
        score: int | None = int(match.group(1)) if match else None
        if score is None and text.strip() in {"1", "2", "3", "4", "5"} and seq > 1:
            (previous,) = await self._store.messages(cid, after=seq - 2, limit=1)
            if any("/handoff_rating" in b.get("payload", "")
                   for b in previous.payload.get("buttons", [])):
                score = int(text.strip())
        if score is None:
            return None
        await self._service.record_rating(cid, score)
        return GateReply((BotMessage(texts.RATING_THANKS),))

