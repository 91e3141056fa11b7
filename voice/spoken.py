"""Text for the ear (pure): numbers, fees, dates, times, phone numbers and abbreviations spoken out;
markdown and links removed (links are offered by SMS or e-mail instead).

    >>> speakable("Die Gebühr beträgt 37,50 € und ist am 1.4.2026 fällig.")
    'Die Gebühr beträgt siebenunddreißig Euro fünfzig und ist am ersten April zweitausendsechsundzwanzig fällig.'
"""

from __future__ import annotations

import re

from voice.numbers import (
    MONTHS,
    date_words,
    digit_words,
    money_words,
    number_words,
    ordinal_words,
    time_words,
)

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]+[^\s<>()\[\].,;:!?\"']")
# A markdown link keeps its label; a bare URL goes, with a leading "unter"/"auf"/...
_LINK_RE = re.compile(
    r"\[(?P<label>[^\]]+)\]\((?P<target>(?:https?://|www\.)[^)\s]+)\)"
    r"|\s*(?:\b(?:unter|auf|bei|hier|siehe)\b)?:?\s*(?P<url>" + URL_RE.pattern + ")")
_EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")

_ABBREVIATIONS = [
    (r"\bz\.\s?B\.", "zum Beispiel"), (r"\bu\.\s?a\.", "unter anderem"),
    (r"\bd\.\s?h\.", "das heißt"), (r"\bi\.\s?d\.\s?R\.", "in der Regel"),
    (r"\bbzw\.", "beziehungsweise"), (r"\bbzgl\.", "bezüglich"), (r"\bca\.", "circa"),
    (r"\bggf\.", "gegebenenfalls"), (r"\bevtl\.", "eventuell"), (r"\binkl\.", "inklusive"),
    (r"\busw\.", "und so weiter"), (r"\bNr\.", "Nummer"), (r"\bTel\.", "Telefon"),
    (r"\bStr\.", "Straße"), (r"\bstr\.", "straße"), (r"\bAbs\.", "Absatz"),
    (r"\bZi\.", "Zimmer"), (r"\bMin\.", "Minuten"), (r"\bStd\.", "Stunden"),
    (r"\bEG\b", "Erdgeschoss"), (r"\bOG\b", "Obergeschoss"), (r"§§?\s?", "Paragraf "),
    (r"\s&\s", " und "),
]
_WEEKDAYS = {"Mo": "Montag", "Di": "Dienstag", "Mi": "Mittwoch", "Do": "Donnerstag",
             "Fr": "Freitag", "Sa": "Samstag", "So": "Sonntag"}
_MONTH_ALT = "|".join(MONTHS)
# Words after which a date or ordinal takes the dative ending ("am ersten", "im dritten").
_DATIVE = {"am", "vom", "zum", "im", "beim", "bis", "seit", "ab", "dem", "den", "zur", "vor",
           "nach", "an", "von"}


def _ending(text: str, pos: int) -> tuple[str, str]:
    """Case ending for an ordinal at ``pos``, and a word to insert before it ("bis" → "zum")."""
    before = re.findall(r"[\wäöüß]+", text[max(0, pos - 20):pos].lower())
    word = before[-1] if before else ""
    if word == "bis":
        return "ten", "zum "
    return ("ten", "") if word in _DATIVE else ("te", "")


def _phone(m: re.Match[str]) -> str:
    raw = m.group(0)
    if sum(c.isdigit() for c in raw) < 6:
        return raw
    groups = [g for g in re.split(r"[\s/-]+", raw) if g]
    spoken = []
    for g in groups:
        spoken.append(("plus " if g.startswith("+") else "") + digit_words(g))
    return ", ".join(spoken)


def _date(m: re.Match[str]) -> str:
    day, month = int(m.group(1)), int(m.group(2))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m.group(0)
    year_text = m.group(3)
    year = int(year_text) if year_text else None
    if year is not None and year < 100:
        year += 2000
    ending, prefix = _ending(m.string, m.start())
    return prefix + date_words(day, month, year, ending=ending)


def _named_date(m: re.Match[str]) -> str:
    day = int(m.group(1))
    ending, prefix = _ending(m.string, m.start())
    return f"{prefix}{ordinal_words(day, ending)} {m.group(2)}"


def _clock(hour: str, minute: str | None) -> str:
    return time_words(int(hour), int(minute) if minute else 0)


def _time_range(m: re.Match[str]) -> str:
    h1, m1, h2, m2 = m.group(1), m.group(2), m.group(3), m.group(4)
    if int(h1) > 24 or int(h2) > 24:
        return m.group(0)
    if m1 or m2:
        return f"{_clock(h1, m1)} bis {_clock(h2, m2)}"
    return f"{number_words(int(h1))} bis {number_words(int(h2))} Uhr"


def _time(m: re.Match[str]) -> str:
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 24 or minute > 59:
        return m.group(0)
    return time_words(hour, minute)


def _int(text: str) -> int:
    return int(text.replace(".", ""))


def _money(m: re.Match[str]) -> str:
    euros = _int(m.group("e"))
    cents_text = m.group("c") or ""
    cents = int(cents_text) if cents_text.isdigit() else 0
    return money_words(euros, cents)


_ARTICLES = _DATIVE | {"der", "die", "das", "des"}


def _ordinal(m: re.Match[str]) -> str:
    """'im 3. Stock' is an ordinal; 'Zimmer 12. Danach' ends a sentence."""
    before = re.findall(r"[\wäöüß]+", m.string[max(0, m.start() - 12):m.start()].lower())
    if not before or before[-1] not in _ARTICLES:
        return number_words(int(m.group(1))) + "."
    ending, _ = _ending(m.string, m.start())
    return ordinal_words(int(m.group(1)), ending)


def _decimal(m: re.Match[str]) -> str:
    return f"{number_words(_int(m.group(1)))} Komma {digit_words(m.group(2))}"


def _email(m: re.Match[str]) -> str:
    local, domain = m.group(0).split("@", 1)

    def spell(part: str) -> str:
        return part.replace(".", " Punkt ").replace("-", " Strich ").replace("_", " Unterstrich ")

    return f"{spell(local)} at {spell(domain)}"


_NUM = r"\d{1,3}(?:\.\d{3})+|\d+"
_RULES: list[tuple[re.Pattern[str], object]] = [
    (_EMAIL_RE, _email),
    (re.compile(r"(?<![\w.,:])(?:\+\d{2}|0)\d*(?:[ /-]?\(?\d+\)?){1,5}(?![\w,:])"), _phone),
    (re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.(?:\s?(\d{4}|\d{2})\b)?"), _date),
    (re.compile(rf"\b(\d{{1,2}})\.\s({_MONTH_ALT})\b"), _named_date),
    (re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s?(?:Uhr\s?)?[–-]\s?(\d{1,2})(?:[:.](\d{2}))?\s?Uhr\b"),
     _time_range),
    (re.compile(r"\b(\d{1,2}):(\d{2})(?:\s?Uhr\b)?"), _time),
    (re.compile(r"\b(\d{1,2})(?:\.(\d{2}))?\s?Uhr\b"), _time),
    (re.compile(rf"(?:€|\bEUR\b)\s?(?P<e>{_NUM})(?:,(?P<c>\d{{2}}|-|–))?"), _money),
    (re.compile(rf"\b(?P<e>{_NUM})(?:,(?P<c>\d{{2}}|-|–))?\s?(?:€|\bEUR\b|\bEuro\b)"), _money),
    (re.compile(r"\b(\d+(?:,\d+)?)\s?%"), lambda m: f"{m.group(1)} Prozent"),
    (re.compile(r"\b(\d{1,3})\.(?=\s+[A-ZÄÖÜ])"), _ordinal),
    (re.compile(rf"\b({_NUM})\s?[–-]\s?({_NUM})\b"),
     lambda m: f"{number_words(_int(m.group(1)))} bis {number_words(_int(m.group(2)))}"),
    (re.compile(rf"\b({_NUM}),(\d+)\b"), _decimal),
    (re.compile(rf"\b({_NUM})\b"), lambda m: number_words(_int(m.group(1)))),
]


def strip_markdown(text: str) -> str:
    """Headings and list items become sentences; emphasis marks go."""
    lines = []
    raw = [line for line in text.splitlines() if line.strip()]
    for line in raw:
        line = re.sub(r"^\s*(?:#{1,6}\s+|[-*•]\s+|\d+\.\s+(?=\D))", "", line).strip()
        if not line:
            continue
        if len(raw) > 1 and not re.search(r"[.!?:;,]$", line):
            line += "."
        lines.append(line)
    text = " ".join(lines)
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    return text


def extract_links(text: str) -> tuple[str, tuple[str, ...]]:
    """Remove links from ``text`` (keeping a markdown link's label); return them separately."""
    links: list[str] = []

    def replace(m: re.Match[str]) -> str:
        if m.group("label") is not None:
            links.append(m.group("target"))
            return m.group("label")
        links.append(m.group("url"))
        return ""

    text = _LINK_RE.sub(replace, text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    text = re.sub(r"([.,;:!?])[.,;:]+", r"\1", text)
    return text.strip(), tuple(dict.fromkeys(links))


def speakable(text: str) -> str:
    """Spell out everything a speech engine would misread in German answers."""
    text = strip_markdown(text)
    for pattern, replacement in _ABBREVIATIONS:
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"\b(Mo|Di|Mi|Do|Fr|Sa|So)\b\.?(?=\s?[–\-,:/]|\s+(?:und|bis)\b|\s+\d)",
                  lambda m: _WEEKDAYS[m.group(1)], text)
    days = "|".join(_WEEKDAYS.values())
    text = re.sub(rf"\b({days})\s?[–-]\s?(?=(?:{days})\b)", r"\1 bis ", text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)  # type: ignore[call-overload]
    text = re.sub(r"(?<=[A-Za-zÄÖÜäöüß])/(?=[A-Za-zÄÖÜäöüß])", " oder ", text)
    text = text.replace("–", ", ").replace(" - ", ", ")
    return re.sub(r"\s{2,}", " ", text).strip()


def sentences(text: str) -> list[str]:
    """Split spoken text into sentences, so the first can be synthesised and played early."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9„\"])", text.strip())
    return [p.strip() for p in parts if p.strip()]
