"""Bot answers shaped for the ear (pure): buttons become spoken choices (and keypad digits),
links become an offer to send them by SMS or e-mail, and the caller's reply to either is matched.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.messages import BotMessage, HandoffRequest
from voice.numbers import number_words
from voice.spoken import extract_links, sentences, speakable

MAX_CHOICES = 9  # one keypad digit each


@dataclass(frozen=True, slots=True)
class Choice:
    digit: str
    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class SpokenAnswer:
    text: str  # everything to say, already speakable
    choices: tuple[Choice, ...] = ()
    links: tuple[str, ...] = ()
    expects_number: bool = False
    handoff: HandoffRequest | None = None

    @property
    def sentences(self) -> list[str]:
        return sentences(self.text)


class LinkChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


_NUMBER_WORDS = ("nummer", "postleitzahl", "zahl", "anzahl", "aktenzeichen", "kennzeichen",
                 "geburtsjahr", "wie viele", "wie alt", "hausnummer")


def _join_or(items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " oder " + items[-1]


def choices_prompt(choices: Sequence[Choice]) -> str:
    titles = [speakable(c.title).rstrip(".") for c in choices]
    keys = "die Eins" if len(choices) == 1 else f"eine Taste von eins bis {number_words(len(choices))}"
    return (f"Sie können wählen: {_join_or(titles)}. "
            f"Sagen Sie Ihre Wahl, oder drücken Sie {keys}.")


LINK_OFFER = ("Den Link dazu kann ich Ihnen per SMS oder per E-Mail schicken. "
              "Sagen Sie dazu einfach SMS oder E-Mail.")
# Without an SMS or e-mail gateway nothing is offered that cannot be sent.
LINK_ON_WEBSITE = "Den Link dazu finden Sie auch auf der Internetseite der Stadt."


def expects_number(message: BotMessage) -> bool:
    """Does this message ask for a number (which the caller may type on the keypad)?"""
    voice = message.extra.get("voice") if isinstance(message.extra, dict) else None
    if isinstance(voice, dict) and voice.get("expect") == "number":
        return True
    text = message.text.strip().lower()
    return text.endswith("?") and any(w in text for w in _NUMBER_WORDS)


def shape_answer(messages: Sequence[BotMessage], *, offer_links: bool = True) -> SpokenAnswer:
    """The answer for the ear; links are offered by SMS or e-mail only when ``offer_links``
    (a sender is configured), else the caller is pointed to the city's website."""
    parts: list[str] = []
    links: list[str] = []
    buttons = ()
    for message in messages:
        text, found = extract_links(message.text)
        links.extend(found)
        links.extend(s.url for s in message.sources if s.url)
        if text:
            parts.append(speakable(text))
        if message.buttons:
            buttons = message.buttons  # the last set of buttons is the open question
    choices = tuple(Choice(str(i + 1), b.title, b.payload)
                    for i, b in enumerate(buttons[:MAX_CHOICES]))
    if choices:
        parts.append(choices_prompt(choices))
    unique_links = tuple(dict.fromkeys(links)) if offer_links else ()
    if unique_links:
        parts.append(LINK_OFFER)
    elif links:
        parts.append(LINK_ON_WEBSITE)
    handoff = next((m.handoff for m in messages if m.handoff is not None), None)
    asks_number = bool(messages) and expects_number(messages[-1]) and not choices
    return SpokenAnswer(" ".join(p for p in parts if p), choices, unique_links, asks_number,
                        handoff)


def normalise(text: str) -> str:
    """Lower case, umlauts folded, punctuation removed: for comparing spoken words."""
    text = text.lower().replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w ]+|_", " ", text).split())


_ORDINAL_PICKS = {
    "1": ("erste", "ersten", "eins", "nummer eins"),
    "2": ("zweite", "zweiten", "zwei", "nummer zwei"),
    "3": ("dritte", "dritten", "drei", "nummer drei"),
    "4": ("vierte", "vierten", "vier", "nummer vier"),
    "5": ("funfte", "funften", "funf", "nummer funf"),
}


def match_choice(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice the caller named: its title, or "die zweite" / "Nummer zwei"."""
    said = normalise(text)
    if not said:
        return None
    for choice in choices:
        title = normalise(choice.title)
        if title and (f" {title} " in f" {said} "):
            return choice
    words = said.split()
    for choice in choices:
        picks = _ORDINAL_PICKS.get(choice.digit, ())
        if said in picks or any(p in words for p in picks[:2]):
            return choice
    best, best_score = None, 0.0
    for choice in choices:
        score = difflib.SequenceMatcher(None, said, normalise(choice.title)).ratio()
        if score > best_score:
            best, best_score = choice, score
    return best if best_score >= 0.75 else None


def link_channel(text: str) -> LinkChannel | None:
    said = normalise(text)
    words = said.split()
    if "sms" in words or "s m s" in said or "kurznachricht" in words:
        return LinkChannel.SMS
    if "e mail" in said or "email" in words or "mail" in words:
        return LinkChannel.EMAIL
    return None
