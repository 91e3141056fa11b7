"""Figures for the supervisor view: queue, waiting times, handoff and containment rate,
outcomes, ratings, overdue tickets, and the questions the bot could not answer."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.handoff import repo
from bot.handoff.model import iso
from bot.privacy.redact import redact

if TYPE_CHECKING:
    from bot.handoff.service import HandoffService

# Escalations that mean "the catalogue had no answer" (see bot/actions/escalation.py).
GAP_REASONS = ("low_confidence", "not_understood")
MAX_GAPS = 25


def _seconds(a: Any, b: Any) -> float:
    return (repo.as_datetime(b) - repo.as_datetime(a)).total_seconds()


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None, "max": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"median": round(statistics.median(ordered)), "p90": round(p90),
            "max": round(ordered[-1])}


def _normalise(question: str) -> str:
    return " ".join(question.lower().split()).strip(" ?!.")


async def supervisor_stats(service: HandoffService, *, days: int = 7) -> dict[str, Any]:
    now = service.clock()
    since = repo.naive(now - dt.timedelta(days=days))
    queue = await service.queue()
    tickets = await service.tickets()
    async with service.store.engine.connect() as conn:
        conversations = (await conn.execute(sa.text(
            "SELECT COUNT(*) FROM conversations WHERE created_at >= :since"),
            {"since": since})).scalar() or 0
        episodes = (await conn.execute(sa.text(
            "SELECT conversation_id, queued_at, claimed_at, ended_at, end_status, outcome, rating"
            " FROM handoffs WHERE queued_at >= :since"), {"since": since})).all()
        ticket_conversations = (await conn.execute(sa.text(
            "SELECT DISTINCT conversation_id FROM tickets WHERE created_at >= :since"),
            {"since": since})).scalars().all()
        gap_rows = (await conn.execute(sa.text(
            "SELECT h.reason, h.context, h.queued_at, (SELECT m.text FROM messages m"
            " WHERE m.conversation_id = h.conversation_id AND m.role = 'citizen'"
            " AND m.seq <= h.queued_seq ORDER BY m.seq DESC LIMIT 1)"
            " FROM handoffs h WHERE h.queued_at >= :since AND h.reason IN ('low_confidence',"
            " 'not_understood') ORDER BY h.queued_at DESC"), {"since": since})).all()
    escalated = {r[0] for r in episodes} | set(ticket_conversations)
    rate = len(escalated) / conversations if conversations else None
    waits = [_seconds(r[1], r[2]) for r in episodes if r[2] is not None]
    handling = [_seconds(r[2], r[3]) for r in episodes if r[2] is not None and r[3] is not None]
    ratings = [int(r[6]) for r in episodes if r[6] is not None]
    waiting_now = [e.waiting_seconds for e in queue if e.status == "queued"]
    gaps: dict[str, dict[str, Any]] = {}
    for reason, context, queued_at, question in gap_rows:
        if not question:
            continue
        question = redact(question)  # an aggregate across citizens: no personal data
        key = _normalise(question)
        entry = gaps.setdefault(key, {"question": question, "count": 0, "reasons": Counter(),
                                      "services": Counter(), "last_seen": iso(
                                          repo.as_datetime(queued_at))})
        entry["count"] += 1
        entry["reasons"][reason] += 1
        entry["services"].update(repo._load(context).get("services") or [])
    top = sorted(gaps.values(), key=lambda g: (-g["count"], g["question"]))[:MAX_GAPS]
    return {
        "window_days": days,
        "generated_at": iso(now),
        "queue": {
            "waiting": len(waiting_now),
            "assigned": sum(1 for e in queue if e.status == "assigned"),
            "longest_wait_seconds": round(max(waiting_now)) if waiting_now else 0,
            "average_wait_seconds": round(statistics.fmean(waiting_now)) if waiting_now else 0,
            "staff_online": sorted(service.presence.usernames()),
        },
        "conversations": conversations,
        "escalated_conversations": len(escalated),
        "handoff_rate": None if rate is None else round(rate, 4),
        "containment_rate": None if rate is None else round(1 - rate, 4),
        "wait_to_claim_seconds": _summary(waits),
        "handling_seconds": _summary(handling),
        "end_status": dict(Counter(r[4] or "open" for r in episodes)),
        "outcomes": dict(Counter(r[5] for r in episodes if r[5])),
        "rating": {"count": len(ratings),
                   "average": round(statistics.fmean(ratings), 2) if ratings else None},
        "tickets": {
            "open": len(tickets),
            "overdue": [t.to_api() for t in tickets if t.overdue],
        },
        "gaps": [{"question": g["question"], "count": g["count"],
                  "reasons": dict(g["reasons"]), "services": [s for s, _ in
                                                              g["services"].most_common(3)],
                  "last_seen": g["last_seen"]} for g in top],
    }
