"""The handoff lifecycle with persistence: queue, claim, chat, hand back, close, tickets.

Every state change is one transaction with a compare-and-set UPDATE (so two staff members
claiming at once get exactly one winner, on SQLite and PostgreSQL alike), an audit entry, and
— after the commit — events for the console and the citizen's socket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.handoff import repo, texts
from bot.handoff.callback import CONSENT_TEXT, CallbackForm
from bot.handoff.config import HandoffConfig
from bot.handoff.errors import (
    AlreadyClaimed,
    ConversationNotFound,
    InvalidOutcome,
    InvalidReleaseTarget,
    NotACall,
    NotOwner,
    NotQueued,
    TicketAlreadyClaimed,
    TicketClosed,
    TicketNotFound,
    TicketNotOwner,
)
from bot.handoff.estimate import estimate_wait
from bot.handoff.events import (
    CallTransferRequested,
    EventHub,
    MessageAdded,
    QueueChanged,
    TicketChanged,
)
from bot.handoff.hours import format_local
from bot.handoff.model import Actor, QueueEntry, Ticket
from bot.handoff.presence import Presence
from bot.handoff.state import ALLOWED, HandoffStatus
from bot.handoff.tickets import Outcome, TicketStatus, due_at
from bot.messages import Button
from bot.store import HandoffChange, Store, StoredMessage

log = structlog.get_logger(__name__)

Clock = Callable[[], dt.datetime]
RATING_PAYLOAD = '/handoff_rating{{"score": {score}}}'
ACTIVE = (HandoffStatus.QUEUED.value, HandoffStatus.ASSIGNED.value)
# (event, channel, outcome) for the metrics: queued, assigned, returned_to_bot, requeued, closed,
# callback_offered, callback_requested, abandoned (bot/observability counts them).
HandoffObserver = Callable[[str, str, str], None]


def _unobserved(_event: str, _channel: str, _outcome: str) -> None:
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Waiting:
    status: HandoffStatus
    position: int | None
    seconds: float | None


class HandoffService:
    def __init__(self, store: Store, hub: EventHub, config: HandoffConfig, presence: Presence,
                 *, clock: Clock = utcnow,
                 notify_citizen: Callable[[str], object] | None = None) -> None:
        self.store = store
        self.hub = hub
        self.config = config
        self.presence = presence
        self.clock = clock
        self._notify_citizen = notify_citizen or (lambda _cid: None)
        self._observe: HandoffObserver = _unobserved

    def set_observer(self, observe: HandoffObserver) -> None:
        """Report lifecycle events (after each commit) to ``observe``, e.g. for metrics."""
        self._observe = observe

    # -- store listener: escalations that arrive through Store.set_handoff ------------------------
    async def in_transaction(self, conn: AsyncConnection, change: HandoffChange) -> None:
        at = self.clock()  # one clock for all handoff records (the store keeps its own)
        if change.current is HandoffStatus.QUEUED:
            await repo.open_episode(conn, change.conversation_id, channel=change.channel,
                                    context=change.context, queued_seq=change.last_seq, at=at)
            await repo.audit(conn, at=at, actor="system", action="queued",
                             conversation_id=change.conversation_id,
                             detail={"reason": (change.context or {}).get("reason", "unknown"),
                                     "channel": change.channel})
        elif change.previous.value in ACTIVE:
            await repo.end_episode(conn, change.conversation_id, by="system",
                                   end_status=change.current.value, at=at)
            await repo.audit(conn, at=at, actor="system", action=f"to_{change.current.value}",
                             conversation_id=change.conversation_id)

    def committed(self, change: HandoffChange) -> None:
        if HandoffStatus.QUEUED in (change.current, change.previous) or \
                change.previous is HandoffStatus.ASSIGNED:
            self.hub.publish(QueueChanged(change.conversation_id, change.current.value))
        if change.current is HandoffStatus.QUEUED:
            self._observe("queued", change.channel, "")

    # -- reading ---------------------------------------------------------------------------------
    async def queue(self) -> list[QueueEntry]:
        now = repo.naive(self.clock())
        async with self.store.engine.connect() as conn:
            rows = await repo.queue_rows(conn)
        entries, position = [], 0
        for row in rows:
            context = repo._load(row[5])
            queued_at = repo.as_datetime(row[6])
            waiting = row[2] == HandoffStatus.QUEUED.value
            position += waiting
            entries.append(QueueEntry(
                conversation_id=row[0], channel=row[1], status=row[2], assigned_to=row[3],
                reason=row[4], summary=str(context.get("summary") or ""),
                services=tuple(context.get("services") or ()), aspect=context.get("aspect"),
                queued_at=queued_at, waiting_seconds=max(0.0, (now - queued_at).total_seconds()),
                position=position if waiting else None,
                last_citizen_text=(row[8] or "")[:200], message_count=int(row[7])))
        return entries

    async def waiting(self, cid: str) -> Waiting:
        """The citizen's view: status, place in the queue and a rough wait estimate."""
        now = self.clock()
        async with self.store.engine.connect() as conn:
            row = await repo.conversation_row(conn, cid)
            if row is None:
                raise ConversationNotFound()
            status = HandoffStatus(row[2])
            if status is not HandoffStatus.QUEUED:
                return Waiting(status, None, None)
            rows = await repo.queue_rows(conn)
            handle = await repo.recent_handle_seconds(conn, now - dt.timedelta(days=7))
        waiting_ids = [r[0] for r in rows if r[2] == HandoffStatus.QUEUED.value]
        position = waiting_ids.index(cid) + 1 if cid in waiting_ids else len(waiting_ids) + 1
        seconds = estimate_wait(position, self.presence.count(), handle,
                                self.config.default_handle_seconds)
        return Waiting(status, position, seconds)

    async def last_citizen_text(self, cid: str, actor: Actor) -> str | None:
        async with self.store.engine.connect() as conn:
            await self._visible(conn, cid, actor)
            return await repo.last_citizen_text(conn, cid)

    @staticmethod
    async def _visible(conn: AsyncConnection, cid: str, actor: Actor) -> Any:
        """The conversation's row if ``actor`` may read it: agents only see conversations that
        were handed over (data minimisation); supervisors see all."""
        row = await repo.conversation_row(conn, cid)
        if row is None or not (actor.is_supervisor or await repo.ever_handed_off(conn, cid)):
            raise ConversationNotFound()
        return row

    async def detail(self, cid: str, actor: Actor) -> dict[str, Any]:
        now = self.clock()
        async with self.store.engine.connect() as conn:
            row = await self._visible(conn, cid, actor)
            audit = await repo.audit_entries(conn, conversation_id=cid)
            tickets = await repo.tickets(conn, now, include_done=True, conversation_id=cid)
            owner_name = await repo.display_name(conn, row[4]) if row[4] else None
        messages = await self.store.messages(cid, limit=2000)
        status = HandoffStatus(row[2])
        context = repo._load(row[3])
        entry = next((e for e in await self.queue() if e.conversation_id == cid), None)
        return {
            "conversation": {
                "id": row[0], "channel": row[1], "status": status.value,
                "assigned_to": row[4], "assigned_to_name": owner_name,
                "reason": context.get("reason"), "summary": context.get("summary", ""),
                "services": context.get("services", []), "aspect": context.get("aspect"),
                "waiting_since": entry.to_api()["waiting_since"] if entry else None,
                "position": entry.position if entry else None,
            },
            "messages": [m.to_api() for m in messages],
            "audit": [a.to_api() for a in audit],
            "tickets": [t.to_api() for t in tickets],
            "actions": {
                "claim": status is HandoffStatus.QUEUED,
                "write": status is HandoffStatus.ASSIGNED and row[4] == actor.username,
                "release": status is HandoffStatus.ASSIGNED and (
                    row[4] == actor.username or actor.is_supervisor),
                "transfer_call": row[1] == "voice" and status in (
                    HandoffStatus.QUEUED, HandoffStatus.ASSIGNED),
            },
        }

    # -- staff actions on conversations ---------------------------------------------------------
    async def claim(self, cid: str, actor: Actor) -> bool:
        """Take the conversation. True if this call took it, False if ``actor`` already had it.
        Raises AlreadyClaimed (someone else has it) or NotQueued."""
        now = self.clock()
        async with self.store.engine.begin() as conn:
            won = await repo.move(conn, cid, from_status=[HandoffStatus.QUEUED.value],
                                  to_status=HandoffStatus.ASSIGNED.value,
                                  assigned_to=actor.username, at=now)
            if not won:
                await self._explain_claim_failure(conn, cid, actor)
                return False
            await repo.claim_episode(conn, cid, by=actor.username, at=now)
            await repo.audit(conn, at=now, actor=actor.username, action="claimed",
                             conversation_id=cid)
        log.info("handoff.claimed", conversation=cid, staff=actor.username)
        self.hub.publish(QueueChanged(cid, HandoffStatus.ASSIGNED.value, actor.username))
        self._observe("assigned", "", "")
        await self._say(cid, "system", texts.STAFF_JOINED.format(name=actor.display_name))
        return True

    async def _explain_claim_failure(self, conn: AsyncConnection, cid: str, actor: Actor) -> None:
        row = await repo.conversation_row(conn, cid)
        if row is None:
            raise ConversationNotFound()
        if row[2] == HandoffStatus.ASSIGNED.value:
            if row[4] == actor.username:
                return
            raise AlreadyClaimed(await repo.display_name(conn, row[4]))
        raise NotQueued()

    async def post(self, cid: str, actor: Actor, text: str) -> StoredMessage:
        """A staff message to the citizen; only the current owner may write."""
        await self._require_owner(cid, actor, allow_supervisor=False)
        message = await self._say(cid, "staff", text, {"staff": actor.display_name})
        async with self.store.engine.begin() as conn:
            await repo.audit(conn, at=self.clock(), actor=actor.username, action="message",
                             conversation_id=cid, detail={"seq": message.seq})
        log.info("handoff.staff_message", conversation=cid, staff=actor.username)
        return message

    async def release(self, cid: str, actor: Actor, to: str) -> HandoffStatus:
        """Hand the conversation back to the bot (``to="bot"``) or to the queue."""
        if to not in ("bot", "queue"):
            raise InvalidReleaseTarget()
        target = HandoffStatus.BOT if to == "bot" else HandoffStatus.QUEUED
        now = self.clock()
        owner = await self._require_owner(cid, actor, allow_supervisor=True)
        async with self.store.engine.begin() as conn:
            if not await repo.move(conn, cid, from_status=[HandoffStatus.ASSIGNED.value],
                                   to_status=target.value, assigned_to=None, owner=owner, at=now):
                raise NotOwner()
            if target is HandoffStatus.BOT:
                await repo.end_episode(conn, cid, by=actor.username, end_status="bot", at=now,
                                       ask_rating=self.config.ask_rating)
            else:
                await repo.unclaim_episode(conn, cid)
            await repo.audit(conn, at=now, actor=actor.username, action=f"released_to_{to}",
                             conversation_id=cid)
        log.info("handoff.released", conversation=cid, staff=actor.username, to=to)
        self.hub.publish(QueueChanged(cid, target.value))
        self._observe("returned_to_bot" if target is HandoffStatus.BOT else "requeued", "", "")
        if target is HandoffStatus.BOT:
            await self._say(cid, "system", texts.BACK_TO_BOT)
            await self._ask_rating(cid)
        else:
            await self._say(cid, "system", texts.BACK_TO_QUEUE)
        return target

    async def close(self, cid: str, actor: Actor, outcome: str, note: str | None = None,
                    callback: dict[str, str] | None = None) -> HandoffStatus:
        """Finish with an outcome. ``callback_needed`` files a ticket and leaves the
        conversation waiting for the callback."""
        try:
            result = Outcome(outcome)
        except ValueError as err:
            raise InvalidOutcome() from err
        now = self.clock()
        row = await self._row(cid)
        status = HandoffStatus(row[2])
        if status is HandoffStatus.QUEUED and actor.is_supervisor:
            owner, allowed = None, [HandoffStatus.QUEUED.value]
        else:
            owner = await self._require_owner(cid, actor, allow_supervisor=True)
            allowed = [HandoffStatus.ASSIGNED.value]
        target = HandoffStatus.CALLBACK_REQUESTED if result is Outcome.CALLBACK_NEEDED \
            else HandoffStatus.CLOSED
        ticket_id: int | None = None
        async with self.store.engine.begin() as conn:
            if not await repo.move(conn, cid, from_status=allowed, to_status=target.value,
                                   assigned_to=None, owner=owner, at=now):
                raise NotOwner()
            episode = await repo.end_episode(
                conn, cid, by=actor.username, end_status=target.value, at=now,
                outcome=result.value, ask_rating=self.config.ask_rating)
            await repo.audit(conn, at=now, actor=actor.username, action="closed",
                             conversation_id=cid, detail={"outcome": result.value})
            if target is HandoffStatus.CALLBACK_REQUESTED:
                contact = callback or {}
                ticket_id = await repo.insert_ticket(
                    conn, cid=cid, channel=row[1], name=contact.get("name", "")[:200],
                    phone=contact.get("phone"), email=contact.get("email"),
                    consent_text=f"Rückruf im Gespräch vereinbart ({actor.display_name}).",
                    topic={**repo._load(row[3]), "note": note or ""}, at=now,
                    due=due_at(now, self.config.ticket_due_hours), handoff_id=episode)
                await repo.audit(conn, at=now, actor=actor.username, action="ticket_filed",
                                 conversation_id=cid, ticket_id=ticket_id)
        log.info("handoff.closed", conversation=cid, staff=actor.username, outcome=result.value)
        self.hub.publish(QueueChanged(cid, target.value))
        self._observe("closed", "", result.value)
        if ticket_id is not None:
            self.hub.publish(TicketChanged(ticket_id, TicketStatus.OPEN.value))
            await self._say(cid, "system", texts.CALLBACK_FILED_BY_STAFF.format(
                ticket=ticket_id, due=self._due_text(due_at(now, self.config.ticket_due_hours))))
        else:
            await self._say(cid, "system", texts.CLOSED)
        await self._ask_rating(cid)
        return target

    async def transfer_call(self, cid: str, actor: Actor) -> None:
        """Voice: claim (if needed) and ask the voice line to connect the caller to ``actor``."""
        row = await self._row(cid)
        if row[1] != "voice":
            raise NotACall()
        if row[2] == HandoffStatus.QUEUED.value:
            await self.claim(cid, actor)
        else:
            await self._require_owner(cid, actor, allow_supervisor=False)
        async with self.store.engine.begin() as conn:
            await repo.audit(conn, at=self.clock(), actor=actor.username,
                             action="call_transfer", conversation_id=cid)
        log.info("handoff.call_transfer", conversation=cid, staff=actor.username)
        self.hub.publish(CallTransferRequested(cid, actor.username))

    # -- tickets ---------------------------------------------------------------------------------
    async def tickets(self, include_done: bool = False) -> list[Ticket]:
        async with self.store.engine.connect() as conn:
            return await repo.tickets(conn, self.clock(), include_done=include_done)

    async def claim_ticket(self, ticket_id: int, actor: Actor) -> bool:
        now = self.clock()
        async with self.store.engine.begin() as conn:
            if not await repo.move_ticket(
                    conn, ticket_id, from_status=[TicketStatus.OPEN.value],
                    set_sql="status = 'claimed', claimed_by = :u, claimed_at = :now",
                    params={"u": actor.username, "now": repo.naive(now)}):
                current = await repo.ticket(conn, ticket_id, now)
                if current is None:
                    raise TicketNotFound()
                if current.status == TicketStatus.DONE.value:
                    raise TicketClosed()
                if current.claimed_by == actor.username:
                    return False
                raise TicketAlreadyClaimed(
                    await repo.display_name(conn, current.claimed_by or "?"))
            await repo.audit(conn, at=now, actor=actor.username, action="ticket_claimed",
                             ticket_id=ticket_id)
        self.hub.publish(TicketChanged(ticket_id, TicketStatus.CLAIMED.value))
        return True

    async def release_ticket(self, ticket_id: int, actor: Actor) -> None:
        now = self.clock()
        async with self.store.engine.begin() as conn:
            if not await repo.move_ticket(
                    conn, ticket_id, from_status=[TicketStatus.CLAIMED.value],
                    set_sql="status = 'open', claimed_by = NULL, claimed_at = NULL", params={},
                    owner=None if actor.is_supervisor else actor.username):
                await self._explain_ticket(conn, ticket_id, now)
                raise TicketNotOwner()
            await repo.audit(conn, at=now, actor=actor.username, action="ticket_released",
                             ticket_id=ticket_id)
        self.hub.publish(TicketChanged(ticket_id, TicketStatus.OPEN.value))

    async def close_ticket(self, ticket_id: int, actor: Actor, outcome: str,
                           note: str | None = None) -> None:
        """Done: the outcome stays, the citizen's contact data are erased (as promised)."""
        try:
            result = Outcome(outcome)
        except ValueError as err:
            raise InvalidOutcome() from err
        now = self.clock()
        async with self.store.engine.begin() as conn:
            if not await repo.move_ticket(
                    conn, ticket_id, from_status=[TicketStatus.OPEN.value,
                                                  TicketStatus.CLAIMED.value],
                    set_sql="status = 'done', closed_by = :u, closed_at = :now,"
                            " outcome = :outcome, note = :note, name = '', phone = NULL,"
                            " email = NULL",
                    params={"u": actor.username, "now": repo.naive(now), "outcome": result.value,
                            "note": (note or "")[:2000] or None},
                    owner=None if actor.is_supervisor else actor.username):
                await self._explain_ticket(conn, ticket_id, now)
                raise TicketNotOwner()
            current = await repo.ticket(conn, ticket_id, now)
            assert current is not None
            await repo.move(conn, current.conversation_id,
                            from_status=[HandoffStatus.CALLBACK_REQUESTED.value],
                            to_status=HandoffStatus.CLOSED.value, assigned_to=None, at=now)
            await repo.audit(conn, at=now, actor=actor.username, action="ticket_closed",
                             conversation_id=current.conversation_id, ticket_id=ticket_id,
                             detail={"outcome": result.value})
        log.info("handoff.ticket_closed", ticket=ticket_id, staff=actor.username)
        self.hub.publish(TicketChanged(ticket_id, TicketStatus.DONE.value))

    async def _explain_ticket(self, conn: AsyncConnection, ticket_id: int,
                              now: dt.datetime) -> None:
        current = await repo.ticket(conn, ticket_id, now)
        if current is None:
            raise TicketNotFound()
        if current.status == TicketStatus.DONE.value:
            raise TicketClosed()

    # -- helpers ---------------------------------------------------------------------------------
    async def _row(self, cid: str) -> Any:
        async with self.store.engine.connect() as conn:
            row = await repo.conversation_row(conn, cid)
        if row is None:
            raise ConversationNotFound()
        return row

    async def _require_owner(self, cid: str, actor: Actor, *, allow_supervisor: bool) -> str:
        """The current owner's username, if ``actor`` may act on the conversation."""
        row = await self._row(cid)
        if row[2] != HandoffStatus.ASSIGNED.value:
            raise NotOwner()
        if row[4] != actor.username and not (allow_supervisor and actor.is_supervisor):
            raise NotOwner()
        return str(row[4])

    async def _say(self, cid: str, role: str, text: str,
                   payload: dict[str, Any] | None = None) -> StoredMessage:
        """Store a message for the citizen and push it to every socket on the conversation."""
        (seq,) = await self.store.append(cid, [(role, text, payload or {})])
        (message,) = await self.store.messages(cid, after=seq - 1, limit=1)
        self.hub.publish(MessageAdded(cid, message.to_api()))
        self._notify_citizen(cid)
        return message

    async def _ask_rating(self, cid: str) -> None:
        if not self.config.ask_rating:
            return
        buttons = tuple(Button(label, RATING_PAYLOAD.format(score=score)) for score, label in
                        ((5, "sehr gut"), (4, "gut"), (3, "mittel"), (2, "schlecht"),
                         (1, "sehr schlecht")))
        await self._say(cid, "bot", texts.RATING_PROMPT,
                        {"buttons": [b.to_wire() for b in buttons], "sources": []})

    def _due_text(self, due: dt.datetime) -> str:
        aware = due if due.tzinfo else due.replace(tzinfo=dt.UTC)
        return format_local(aware, self.config.hours.zone)

    async def record_rating(self, cid: str, score: int) -> bool:
        since = self.clock() - dt.timedelta(minutes=self.config.rating_window_minutes)
        async with self.store.engine.begin() as conn:
            episode = await repo.pending_rating(conn, cid, since)
            if episode is None:
                return False
            await repo.set_rating(conn, episode, score)
            await repo.audit(conn, at=self.clock(), actor="citizen", action="rated",
                             conversation_id=cid, detail={"score": score})
        return True

    # -- citizens --------------------------------------------------------------------------------
    async def file_ticket(self, cid: str, form: CallbackForm, channel: str) -> tuple[int,
                                                                                     dt.datetime]:
        """The citizen consented: file the callback ticket and stop waiting in the queue."""
        now = self.clock()
        due = due_at(now, self.config.ticket_due_hours)
        async with self.store.engine.begin() as conn:
            row = await repo.conversation_row(conn, cid)
            if row is None:
                raise ConversationNotFound()
            status = HandoffStatus(row[2])
            episode = None
            if HandoffStatus.CALLBACK_REQUESTED in ALLOWED[status]:
                await repo.move(conn, cid, from_status=[status.value],
                                to_status=HandoffStatus.CALLBACK_REQUESTED.value,
                                assigned_to=None, at=now)
                if status is HandoffStatus.QUEUED:
                    episode = await repo.end_episode(conn, cid, by="citizen",
                                                     end_status="callback_requested", at=now)
            ticket_id = await repo.insert_ticket(
                conn, cid=cid, channel=channel or row[1], name=form.name, phone=form.phone,
                email=form.email, consent_text=CONSENT_TEXT, topic=form.topic, at=now, due=due,
                handoff_id=episode)
            await repo.delete_form(conn, cid)
            await repo.audit(conn, at=now, actor="citizen", action="ticket_filed",
                             conversation_id=cid, ticket_id=ticket_id)
        log.info("handoff.ticket_filed", ticket=ticket_id, channel=channel)
        self.hub.publish(TicketChanged(ticket_id, TicketStatus.OPEN.value))
        self.hub.publish(QueueChanged(cid, HandoffStatus.CALLBACK_REQUESTED.value))
        self._observe("callback_requested", channel, "")
        return ticket_id, due

    async def record_callback_offer(self, cid: str, context: dict[str, Any],
                                    channel: str) -> None:
        """Nobody could take over: count the demand (an episode that ends at once)."""
        now = self.clock()
        async with self.store.engine.begin() as conn:
            row = await repo.conversation_row(conn, cid)
            if row is None:
                raise ConversationNotFound()
            if await repo.open_episode_id(conn, cid) is not None:
                return
            await repo.open_episode(conn, cid, channel=channel or row[1], context=context,
                                    queued_seq=int(row[5]), at=now)
            await repo.end_episode(conn, cid, by="system", end_status="callback_offered", at=now)
            await repo.audit(conn, at=now, actor="system", action="callback_offered",
                             conversation_id=cid, detail={"reason": context.get("reason")})
        self._observe("callback_offered", channel or str(row[1]), "")

    async def cancel_waiting(self, cid: str) -> bool:
        """The citizen leaves the queue; the bot answers again."""
        now = self.clock()
        async with self.store.engine.begin() as conn:
            if not await repo.move(conn, cid, from_status=[HandoffStatus.QUEUED.value],
                                   to_status=HandoffStatus.BOT.value, assigned_to=None, at=now):
                return False
            await repo.end_episode(conn, cid, by="citizen", end_status="abandoned", at=now)
            await repo.audit(conn, at=now, actor="citizen", action="left_queue",
                             conversation_id=cid)
        self.hub.publish(QueueChanged(cid, HandoffStatus.BOT.value))
        self._observe("abandoned", "", "")
        return True

    def due_text(self, due: dt.datetime) -> str:
        return self._due_text(due)
