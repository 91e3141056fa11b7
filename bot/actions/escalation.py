"""Handing over to a person, and what to do when the bot does not understand."""

from __future__ import annotations

from bot.actions import turn as slots
from bot.actions.reply import Context, Reply, human_offer_buttons
from bot.actions.summary import staff_summary
from bot.actions.texts import say, say_simple
from bot.actions.turn import Turn
from bot.messages import BotMessage, HandoffRequest

# Intents that mean "a person must take over now", and the reason staff see.
HANDOFF_REASONS = {
    "request_human": "explicit_request",
    "complaint": "complaint",
    "ask_status": "status_enquiry",
    "distress": "distress",
}

# After this many consecutive misses the bot offers a person instead of asking again.
MISSES_BEFORE_OFFER = 2


def handoff_reason(turn: Turn) -> str:
    """Why this turn hands over; an accepted offer after misses is "not_understood"."""
    if turn.intent in HANDOFF_REASONS:
        return HANDOFF_REASONS[turn.intent]
    return "not_understood" if turn.misses >= 1 else "low_confidence"


def handoff(ctx: Context, turn: Turn) -> Reply:
    reason = handoff_reason(turn)
    lang = turn.reply_language if reason in HANDOFF_REASONS.values() else turn.language
    services = list(turn.services_discussed)
    if turn.service_id and turn.service_id not in services:
        services.append(turn.service_id)
    summary = staff_summary(
        reason,
        services=[ctx.service_name(s) for s in services],
        aspect=turn.aspect,
        user_messages=[*turn.history, turn.text],
        persons=turn.entities.get("person", ()),
        language=lang,
        simple_language=turn.simple_language,
    )
    request = HandoffRequest(reason=reason, summary=summary, services=tuple(services),
                             aspect=turn.aspect)
    message = BotMessage(say(lang, f"handoff.{reason}"), handoff=request)
    return Reply((message,), {slots.PENDING: None, slots.MISSES: 0.0, slots.LANGUAGE: lang})


def miss(turn: Turn) -> Reply:
    """Not understood: ask to rephrase first, then offer a person."""
    lang = turn.reply_language
    misses = turn.misses + 1
    if misses < MISSES_BEFORE_OFFER:
        text = say_simple(lang, "rephrase", turn.simple_language)
        return Reply((BotMessage(text),), {slots.MISSES: float(misses), slots.LANGUAGE: lang})
    text = say_simple(lang, "offer_human", turn.simple_language)
    buttons = human_offer_buttons(say(lang, "button_yes_human"), say(lang, "button_no_human"))
    return Reply((BotMessage(text, buttons=buttons),),
                 {slots.MISSES: float(misses), slots.PENDING: "human", slots.LANGUAGE: lang})


def confirm(ctx: Context, turn: Turn) -> Reply:
    """ "Ja": accepts an open offer of a person; otherwise there is nothing to confirm."""
    if turn.pending == "human":
        return handoff(ctx, turn)
    return Reply((BotMessage(say(turn.language, "how_can_i_help")),), {})


def not_sure(turn: Turn) -> Reply:
    """The dialogue policies could not decide what to do: ask to rephrase, count nothing."""
    return Reply((BotMessage(say_simple(turn.reply_language, "rephrase", turn.simple_language)),))


def decline(turn: Turn) -> Reply:
    """ "Nein": the citizen does not want a person after all, or just says no."""
    key = "declined" if turn.pending == "human" else "deny_ok"
    return Reply((BotMessage(say(turn.language, key)),),
                 {slots.PENDING: None, slots.MISSES: 0.0})
