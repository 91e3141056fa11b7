"""Answers about where to go: the offices for a service, or offices the citizen named."""

from __future__ import annotations

from bot.actions import hours as oh
from bot.actions import offices as of
from bot.actions import turn as slots
from bot.actions.reply import Context, Reply, topic_slots
from bot.actions.texts import say, say_simple
from bot.actions.turn import Turn
from bot.catalogue.model import Office
from bot.messages import BotMessage, Source
from retrieval.api import Aspect

MAX_LISTED = 4


def _compact(office: Office, ctx: Context, lang: str) -> str:
    lines = [office.name]
    if office.address is not None:
        lines.append(office.address.one_line())
    if office.opening_hours is not None:
        lines.append(oh.status_text(office.opening_hours, ctx.now, lang))
    return "\n".join(lines)


def _blocks(offices: tuple[Office, ...] | list[Office], ctx: Context, turn: Turn,
            lang: str) -> list[str]:
    day_word = turn.first("date")
    day = oh.resolve_day(day_word, ctx.now.date()) if day_word else None
    if len(offices) == 1:
        return [of.describe(offices[0], ctx.now, lang, day=day)]
    blocks = [_compact(o, ctx, lang) if day is None or o.opening_hours is None
              else f"{o.name}\n{oh.day_text(o.opening_hours, day, lang)}"
              for o in offices[:MAX_LISTED]]
    return blocks


def _where(turn: Turn) -> tuple[str | None, str | None]:
    return (turn.first("postcode") or turn.postcode, turn.first("district") or turn.district)


def service_offices(ctx: Context, turn: Turn, service_id: str, lang: str) -> Reply:
    """Where the citizen can get ``service_id``: responsible/nearest office first."""
    postcode, district = _where(turn)
    choice = of.select_offices(ctx.catalogue, service_id, postcode=postcode, district=district,
                               geo=turn.geo)
    service = ctx.catalogue.services[service_id]
    name = service.name
    slots = topic_slots(lang, service_id, Aspect.OFFICE.value)
    sources = (Source(service.id, service.name, service.url),)
    if not choice.offices:
        phone = f" (Telefon {ctx.catalogue.phone})" if ctx.catalogue.phone else ""
        return Reply((BotMessage(say(lang, "no_offices", service=name, phone=phone),
                                 sources=sources),), slots)
    match choice.matched_by:
        case of.MatchedBy.POSTCODE:
            header = say(lang, "offices_postcode", postcode=postcode or "")
        case of.MatchedBy.DISTRICT:
            header = say(lang, "offices_district", district=district or "")
        case of.MatchedBy.NEAREST:
            header = say(lang, "offices_nearest")
        case of.MatchedBy.ONLY:
            header = say(lang, "offices_intro_one", service=name)
        case _:
            header = say(lang, "offices_intro", service=name)
    shown = choice.offices[:1] if choice.matched_by == of.MatchedBy.NEAREST else choice.offices
    parts = [header]
    if choice.matched_by == of.MatchedBy.NEAREST:
        parts[0] = f"{say(lang, 'offices_intro', service=name)} {header}"
    if choice.unknown_location:
        parts.append(say(lang, "unknown_location"))
    parts.extend(_blocks(shown, ctx, turn, lang))
    if choice.needs_location:
        parts.append(say_simple(lang, "ask_location", turn.simple_language))
    if service.appointment_url and len(shown) > 1:
        parts.append(("Book an appointment: " if lang == "en" else "Termin buchen: ")
                     + service.appointment_url)
    return Reply((BotMessage("\n\n".join(parts), sources=sources),), slots)


def named_offices(ctx: Context, turn: Turn, offices: list[Office], lang: str) -> Reply:
    """The citizen asked about offices by name ("Wann hat das Standesamt offen?")."""
    postcode, district = _where(turn)
    if len(offices) > 1 and (postcode or district):
        local = [o for o in offices if (postcode and postcode in o.postal_codes)
                 or (district and o.district and o.district.casefold() == district.casefold())]
        offices = local or offices
    parts = [say(lang, "offices_named"), *_blocks(offices, ctx, turn, lang)]
    return Reply((BotMessage("\n\n".join(parts)),), topic_slots(lang))


def location_reply(ctx: Context, turn: Turn) -> Reply:
    """The citizen told us where they live: the responsible office for the current service."""
    lang = turn.reply_language
    if turn.service_id in ctx.catalogue.services:
        return service_offices(ctx, turn, turn.service_id, lang)  # type: ignore[arg-type]
    return Reply((BotMessage(say_simple(lang, "which_service", turn.simple_language)),),
                 {slots.LANGUAGE: lang})
