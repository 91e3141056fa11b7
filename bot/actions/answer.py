"""Answering a question about a service: topic planning, then the catalogue's answer text.

The catalogue texts come from ``retrieval.compose``; this module only picks what to compose,
the style (plain German, Leichte Sprache, an English frame) and the slots that carry the
topic to the next turn.
"""

from __future__ import annotations

from dataclasses import replace

from bot.actions import turn as slots
from bot.actions.escalation import miss
from bot.actions.life import find_life_situation, life_situation_reply
from bot.actions.office_reply import named_offices, service_offices
from bot.actions.offices import offices_named
from bot.actions.plan import Plan, PlanKind, plan_answer, slot_aspect
from bot.actions.reply import Context, Reply, human_offer_buttons, topic_slots
from bot.actions.simple import simple_answer
from bot.actions.texts import say, say_simple
from bot.actions.turn import Turn
from bot.messages import BotMessage
from retrieval.api import Aspect, Decision, DecisionKind
from retrieval.compose import compose_abstain, compose_answer, compose_clarify


def in_language(message: BotMessage, lang: str) -> BotMessage:
    """The catalogue is German; English questions get an English frame around it."""
    if lang != "en":
        return message
    return replace(message, text=f"{say('en', 'english_note')}\n\n{message.text}")


def service_answer(ctx: Context, turn: Turn, service_id: str, aspect: Aspect,
                   lang: str) -> Reply:
    """The answer about one service and aspect, in the citizen's language and style."""
    if aspect == Aspect.OFFICE:
        return service_offices(ctx, turn, service_id, lang)
    if turn.simple_language and lang == "de":
        message = simple_answer(ctx.catalogue, service_id, aspect)
    else:
        message = in_language(compose_answer(ctx.catalogue, service_id, aspect), lang)
    return Reply((message,), topic_slots(lang, service_id, aspect.value))


def _asks_about_named_office(turn: Turn, aspect: Aspect) -> bool:
    return aspect == Aspect.OFFICE and turn.intent != "ask_followup" and not turn.is_payload


def answer(ctx: Context, turn: Turn, decision: Decision | None) -> Reply:
    """Reply to ask_service / ask_followup / choose_service (and understood fallbacks)."""
    plan = plan_answer(turn, decision, ctx.known_services)
    lang = turn.reply_language
    if _asks_about_named_office(turn, plan.aspect):
        named = offices_named(ctx.catalogue, turn.text)
        if named:
            return named_offices(ctx, turn, named, lang)
    return _reply_for(ctx, turn, plan, decision, lang)


def _reply_for(ctx: Context, turn: Turn, plan: Plan, decision: Decision | None,
               lang: str) -> Reply:
    match plan.kind:
        case PlanKind.ANSWER:
            assert plan.service_id is not None
            return service_answer(ctx, turn, plan.service_id, plan.aspect, lang)
        case PlanKind.CLARIFY:
            message = compose_clarify(ctx.catalogue, plan.hits)
            if lang == "en":
                message = replace(message, text=say("en", "clarify"))
            return Reply((message,), topic_slots(lang, aspect=plan.aspect.value))
        case PlanKind.NO_TOPIC:
            text = say_simple(lang, "which_service", turn.simple_language)
            return Reply((BotMessage(text),), {slots.LANGUAGE: lang})
    if decision is not None and decision.life_situations:
        situation = find_life_situation(ctx.catalogue, "", decision.life_situations)
        if situation is not None:
            return life_situation_reply(ctx, situation, lang)
    return abstain(ctx, lang)


def abstain(ctx: Context, lang: str) -> Reply:
    """Nothing in the catalogue fits: say so and offer a person. The offer is pending, so a
    typed "ja" accepts it as well as the button (handoff reason "low_confidence")."""
    message = compose_abstain(ctx.catalogue)
    text = say("en", "abstain") if lang == "en" else message.text
    buttons = human_offer_buttons(say(lang, "button_yes_human"), say(lang, "button_no_human"))
    return Reply((replace(message, text=text, buttons=buttons),),
                 {slots.LANGUAGE: lang, slots.PENDING: "human"})


def simple_language(ctx: Context, turn: Turn) -> Reply:
    """Switch to Leichte Sprache and repeat the current answer in it."""
    on = {slots.SIMPLE_LANGUAGE: True}
    if turn.service_id in ctx.catalogue.services:
        simple_turn = replace(turn, simple_language=True, language="de")
        reply = service_answer(ctx, simple_turn, turn.service_id, slot_aspect(turn), "de")  # type: ignore[arg-type]
        return Reply(reply.messages, {**reply.slots, **on})
    return Reply((BotMessage(say(turn.reply_language, "simple_on")),), on)



def life_situation(ctx: Context, turn: Turn, decision: Decision | None) -> Reply:
    """A life situation's checklist; a question that matches none is answered as a service."""
    situation = find_life_situation(ctx.catalogue, turn.text,
                                    decision.life_situations if decision else ())
    if situation is None:
        return answer(ctx, turn, decision)
    return life_situation_reply(ctx, situation, turn.reply_language)


def fallback(ctx: Context, turn: Turn, decision: Decision | None) -> Reply:
    """The NLU was unsure. Answer anyway when retrieval is confident or the message is a
    follow-up on the current topic; otherwise count a miss (rephrase, then offer a person)."""
    plan = plan_answer(turn, decision, ctx.known_services)
    if plan.kind == PlanKind.ANSWER and (
            plan.follow_up or (decision is not None and decision.kind == DecisionKind.ANSWER)):
        return _reply_for(ctx, turn, plan, decision, turn.reply_language)
    return miss(turn)
