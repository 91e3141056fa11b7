"""Life situations ("Ich ziehe nach Musterstadt"): a short checklist of the services involved."""

from __future__ import annotations

import re

from bot.actions import turn as slots
from bot.actions.reply import Context, Reply
from bot.actions.texts import say
from bot.catalogue.model import Catalogue, LifeSituation
from bot.messages import BotMessage, Button
from retrieval.compose import choose_payload

MAX_BUTTONS = 8
_WORD = re.compile(r"[\wäöüß]+")


def match_life_situation(catalogue: Catalogue, text: str) -> LifeSituation | None:
    """The life situation whose name or synonyms share the most words with the text."""
    words = {w for w in _WORD.findall(text.casefold()) if len(w) > 3}
    best: tuple[int, LifeSituation] | None = None
    for situation in catalogue.life_situations.values():
        phrases = (situation.name, *situation.synonyms)
        score = max(len(words & set(_WORD.findall(p.casefold()))) for p in phrases)
        if score and (best is None or score > best[0]):
            best = (score, situation)
    return best[1] if best else None


def checklist(ctx: Context, situation: LifeSituation, lang: str) -> BotMessage:
    services = [ctx.catalogue.services[s] for s in situation.service_ids
                if s in ctx.catalogue.services]
    first_sentence = situation.description.split(". ")[0].rstrip(".") + "."
    lines = [say(lang, "life_intro", name=situation.name), first_sentence, ""]
    lines += [f"• {s.name}" for s in services]
    lines += ["", say(lang, "life_more")]
    buttons = tuple(Button(s.name, choose_payload(s.id)) for s in services[:MAX_BUTTONS])
    return BotMessage("\n".join(lines), buttons=buttons)


def find_life_situation(catalogue: Catalogue, text: str,
                        retrieved: tuple[str, ...] = ()) -> LifeSituation | None:
    """Retrieval's best life situation, else the best word match on the text."""
    for situation_id in retrieved:
        if situation_id in catalogue.life_situations:
            return catalogue.life_situations[situation_id]
    return match_life_situation(catalogue, text)


def life_situation_reply(ctx: Context, situation: LifeSituation, lang: str) -> Reply:
    return Reply((checklist(ctx, situation, lang),),
                 {slots.LANGUAGE: lang, slots.PENDING: None, slots.MISSES: 0.0})
