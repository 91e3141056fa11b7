"""Deciding what to answer: the current topic, a new one, a clarifying question, or nothing.

Pure: the inputs are the turn (intent, entities, slots) and the retrieval decision; the output
says which service and aspect to answer, or that we must clarify or give up. The rules:

- a clarify button (entity ``service_id``) names the service; the aspect asked before stays;
- a follow-up that names no service ("Und was kostet der?") stays with the current service and
  takes the new aspect; without a current service we ask which one is meant;
- a confident retrieval answer starts a new topic (it replaces the old one);
- retrieval unsure between candidates: ask, unless the message names no service and carries an
  aspect while a topic is open — then it is a follow-up the NLU took for a new question;
- retrieval has nothing: the same follow-up rule, else abstain.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from bot.actions.turn import Turn
from retrieval.api import Aspect, Decision, DecisionKind, Hit


class PlanKind(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    ABSTAIN = "abstain"
    NO_TOPIC = "no_topic"  # a follow-up question, but no service is being discussed


@dataclass(frozen=True, slots=True)
class Plan:
    kind: PlanKind
    service_id: str | None = None
    aspect: Aspect = Aspect.GENERAL
    hits: tuple[Hit, ...] = ()
    follow_up: bool = False


FOLLOW_UP_INTENTS = frozenset({"ask_followup"})


def aspect_of(turn: Turn, decision: Decision | None) -> Aspect:
    """The aspect the message asks about: the NLU entity first, then retrieval's guess."""
    for value in turn.entities.get("aspect", ()):
        try:
            return Aspect(value)
        except ValueError:
            continue
    return decision.aspect if decision is not None else Aspect.GENERAL


def slot_aspect(turn: Turn) -> Aspect:
    """The aspect carried over in the slot (general when unset or unknown)."""
    try:
        return Aspect(turn.aspect) if turn.aspect else Aspect.GENERAL
    except ValueError:
        return Aspect.GENERAL


def plan_answer(turn: Turn, decision: Decision | None, known_services: frozenset[str]) -> Plan:
    chosen = turn.first("service_id")
    if chosen is not None and chosen in known_services:
        return Plan(PlanKind.ANSWER, chosen, aspect_of(turn, None) if turn.entities.get("aspect")
                    else slot_aspect(turn))
    aspect = aspect_of(turn, decision)
    current = turn.service_id if turn.service_id in known_services else None
    names_service = bool(turn.entities.get("service"))
    follow_up = current is not None and not names_service

    if turn.intent in FOLLOW_UP_INTENTS and not names_service:
        # A question about "das"/"der" needs a topic; retrieval on it alone only guesses.
        if current is None:
            return Plan(PlanKind.NO_TOPIC, aspect=aspect)
        return Plan(PlanKind.ANSWER, current, aspect, follow_up=True)
    if decision is None:
        return Plan(PlanKind.NO_TOPIC if turn.intent in FOLLOW_UP_INTENTS else PlanKind.ABSTAIN,
                    aspect=aspect)
    if decision.kind == DecisionKind.ANSWER and decision.best is not None:
        return Plan(PlanKind.ANSWER, decision.best.service_id, aspect, decision.hits)
    if follow_up and aspect != Aspect.GENERAL:
        return Plan(PlanKind.ANSWER, current, aspect, follow_up=True)
    if decision.kind == DecisionKind.CLARIFY and decision.hits:
        return Plan(PlanKind.CLARIFY, aspect=aspect, hits=decision.hits)
    if turn.intent in FOLLOW_UP_INTENTS:
        return Plan(PlanKind.NO_TOPIC, aspect=aspect)
    return Plan(PlanKind.ABSTAIN, aspect=aspect, hits=decision.hits)


def focus(whole: Decision, focused: Decision) -> Decision:
    """Retrieval on the whole message found nothing; take the search on its service names
    alone if that is confident, keeping the aspect and life situations of the whole message."""
    if focused.kind != DecisionKind.ANSWER:
        return whole
    aspect = whole.aspect if whole.aspect != Aspect.GENERAL else focused.aspect
    return replace(focused, aspect=aspect,
                   life_situations=whole.life_situations or focused.life_situations)
