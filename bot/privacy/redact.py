"""Replace personal data in free text by typed placeholders, before text leaves the
conversation store (logs, statistics, exports of suggestions, stored comments).

``redact("Ich heiße Anna Schmidt, Tel. 0170 1234567")`` →
``"Ich heiße [NAME], Tel. [TELEFON]"``.

What is recognised (see docs/PRIVACY.md for the full rules):

* ``[E-MAIL]`` e-mail addresses;
* ``[IBAN]`` IBANs, spaced or not, only when the ISO 13616 mod-97 checksum holds;
* ``[STEUER-ID]`` 11-digit tax ids (Steuer-IdNr.) whose check digit (ISO 7064 MOD 11,10) and
  digit pattern hold, or any 11 digits right after "Steuer-ID"/"Identifikationsnummer";
  ``[STEUERNUMMER]`` a Steuernummer right after "Steuernummer"/"St.-Nr.";
* ``[GEBURTSDATUM]`` a date after "geboren (am)", "geb.", "Geburtsdatum", "Geburtstag"
  (``12.03.1985``, ``12. März 1985``, ``1985-03-12``, ``12/03/1985``);
* ``[NAME]`` names after "ich heiße", "mein Name ist", "Name:", "hier spricht", "Frau"/"Herr",
  "geb." (birth name) and greetings ("Viele Grüße");
* ``[TELEFON]`` phone numbers starting with ``+``, ``00`` or a German trunk ``0``
  (7-15 digits, separated by spaces, ``-``, ``/`` or brackets), or any digits after "Tel."/
  "Telefon"/"Handy"/"erreichbar unter".

Deliberately left alone: postcodes, prices ("37,00 €"), years, times ("8:00-12:00"), service
ids, dates that are not said to be a birth date, and numbers after "Aktenzeichen",
"Vorgangsnummer" and the like (case numbers are what staff need to find a case).

Pure and synchronous; all patterns are compiled once at import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

NAME = "[NAME]"
PHONE = "[TELEFON]"
EMAIL = "[E-MAIL]"
IBAN = "[IBAN]"
TAX_ID = "[STEUER-ID]"
TAX_NUMBER = "[STEUERNUMMER]"
BIRTH_DATE = "[GEBURTSDATUM]"

# -- e-mail ------------------------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")

# -- IBAN --------------------------------------------------------------------------------------
# Country code, two check digits, then 11..30 alphanumerics, optionally in groups of up to four
# separated by single spaces. Candidates are trimmed group by group until the checksum holds.
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{1,4}){3,8}(?![A-Za-z0-9])")

# Lengths per country for the common SEPA countries; others: 15..34.
_IBAN_KEY = re.compile(r"(?i)\biban\s*(?:ist|lautet|:|=)?\s*$")

_IBAN_LENGTH = {
    "DE": 22, "AT": 20, "CH": 21, "NL": 18, "BE": 16, "FR": 27, "IT": 27, "ES": 24, "PL": 28,
    "LU": 20, "DK": 18, "CZ": 24, "GB": 22, "IE": 22, "PT": 25, "SE": 24, "FI": 18, "NO": 15,
    "LI": 21, "HU": 28, "SK": 24, "SI": 19, "HR": 21, "RO": 24, "BG": 22, "GR": 27, "TR": 26,
}


def iban_valid(candidate: str) -> bool:
    """ISO 13616: country-specific length and (rearranged number) mod 97 == 1."""
    iban = candidate.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    expected = _IBAN_LENGTH.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def _redact_ibans(text: str) -> str:
    out: list[str] = []
    pos = 0
    while (match := _IBAN.search(text, pos)) is not None:
        out.append(text[pos:match.start()])
        groups = match.group(0).split(" ")
        # A spaced IBAN may be followed by a word or number that the pattern swallowed: drop
        # trailing groups until the rest is a valid IBAN; scanning resumes right after it.
        for end in range(len(groups), 0, -1):
            head = " ".join(groups[:end])
            if iban_valid(head):
                out.append(IBAN)
                pos = match.start() + len(head)
                break
        else:
            # After the word "IBAN" a mistyped IBAN is still the citizen's account.
            before = text[max(0, match.start() - 12):match.start()]
            if _IBAN_KEY.search(before) and len(match.group(0).replace(" ", "")) >= 15:
                out.append(IBAN)
            else:
                out.append(match.group(0))
            pos = match.end()
    out.append(text[pos:])
    return "".join(out)


# -- tax ids -----------------------------------------------------------------------------------
_TAX_KEY = (r"(?:steuer[- ]?id(?:entifikationsnummer)?|steuerliche[n]? identifikationsnummer"
            r"|identifikationsnummer|steuer-?idnr\.?|st-?idnr\.?|idnr\.?|tin)")
_TAX_ID_KEYED = re.compile(
    rf"(?i)(\b{_TAX_KEY}\s*(?:ist|lautet|:|=)?\s*)(\d{{2}} ?\d{{3}} ?\d{{3}} ?\d{{3}})(?!\d)")
_TAX_ID = re.compile(r"(?<![\d,.])([1-9]\d ?\d{3} ?\d{3} ?\d{3})(?![\d,]|\.\d)")
_TAX_NUMBER_KEYED = re.compile(
    r"(?i)(\b(?:steuernummer|st\.? ?-?nr\.?|stnr\.?)\s*(?:ist|lautet|:|=)?\s*)"
    r"(\d{2,5}(?:[ /]\d{3,5}){1,3}|\d{10,13})(?!\d)")


def tax_id_valid(candidate: str) -> bool:
    """Steuer-IdNr.: 11 digits, no leading 0, in the first ten one digit occurs twice or three
    times and the others at most once, check digit per ISO 7064 MOD 11,10."""
    digits = candidate.replace(" ", "")
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    counts = sorted((digits[:10].count(d) for d in set(digits[:10])), reverse=True)
    if counts[0] not in (2, 3) or (len(counts) > 1 and counts[1] > 1):
        return False
    product = 10
    for ch in digits[:10]:
        total = (int(ch) + product) % 10 or 10
        product = (total * 2) % 11
    check = (11 - product) % 10
    return check == int(digits[10])


def _tax_id_sub(match: re.Match[str]) -> str:
    return TAX_ID if tax_id_valid(match.group(1)) else match.group(0)


# -- dates of birth ----------------------------------------------------------------------------
_MONTHS = (r"(?:januar|jänner|februar|märz|maerz|april|mai|juni|juli|august|september|oktober"
           r"|november|dezember|jan|feb|febr|mär|mrz|apr|jun|jul|aug|sep|sept|okt|nov|dez)\.?")
_DATE = (rf"(?:\d{{1,2}}\.\s?\d{{1,2}}\.\s?(?:\d{{4}}|\d{{2}})(?!\d)"
         rf"|\d{{1,2}}\.?\s*{_MONTHS}\s*(?:\d{{4}}|\d{{2}})(?!\d)"
         rf"|\d{{4}}-\d{{2}}-\d{{2}}(?!\d)"
         rf"|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}(?!\d))")
_BIRTH_KEY = (r"(?:geboren(?:\s+am)?|geb\.(?:\s*am)?|geb\s+am|geburtsdatum|geb\.-datum"
              r"|geburtstag(?:\s+ist)?|date\s+of\s+birth|dob)")
_BIRTH_DATE = re.compile(
    rf"(?i)(\b{_BIRTH_KEY}\s*(?:ist|:|=|-)?\s*(?:der\s+|am\s+|den\s+)?)({_DATE})")

# -- names -------------------------------------------------------------------------------------
_UPPER = "A-ZÄÖÜÀ-ÖØ-Þ"
_LOWER = "a-zäöüßà-öø-ÿ"
_CAP_WORD = rf"[{_UPPER}][{_LOWER}]+(?:['’][{_UPPER}]?[{_LOWER}]+)?(?:-[{_UPPER}][{_LOWER}]+)*"
_ANY_WORD = (rf"[{_UPPER}{_LOWER}][{_LOWER}]+(?:['’][{_UPPER}{_LOWER}]?[{_LOWER}]+)?"
             rf"(?:-[{_UPPER}{_LOWER}][{_LOWER}]+)*")
_PARTICLE = r"(?:von\s+der|von\s+dem|van\s+der|van\s+den|von|vom|van|zu|zur|de|del|da|di|le|la)"
_CAP_NAME = rf"{_CAP_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_CAP_WORD}){{0,3}}"
_PARTICLE_RE = re.compile(r"(?i)von|vom|van|zu|zur|de|del|da|di|le|la|der|dem|den")
_TITLE = r"(?:(?:Dr|Prof|Dipl)\.(?:\s*-?\s*[A-Z][a-z]*\.)*\s+)*"

# Words that end a name after a trigger (compared in lower case). Citizens often type in lower
# case, so after the strong triggers a lower-case word counts as a name unless it is one of these.
_STOP = frozenset(re.findall(r"\S+", """
ich du er sie es wir ihr mich mir mein meine meinen meiner und oder aber bitte danke dass
wie was wo wann warum ob so nicht kein keine auch noch schon nur mal ja nein eigentlich
bin ist sind war habe hat haben möchte moechte will wollte würde wuerde brauche benötige
kann könnte muss wohne wohnen komme aus in im bei mit von vom für fuer zu zum zur an am auf
der die das den dem des ein eine einen einem einer hier da dort jetzt heute gerade also
wegen weil denn herr frau guten tag hallo hi moin servus sehr geehrte geehrter
"""))

_STRONG_TRIGGER = (r"(?:ich\s+hei(?:ß|ss|s)e|mein\s+(?:vor|nach|familien|zu|ruf)?name\s+"
                   r"(?:ist|lautet|wäre)|(?:vor|nach|familien|geburts)?name\s*:|"
                   r"hier\s+(?:spricht|schreibt)|man\s+nennt\s+mich|"
                   r"(?:my\s+name\s+is|i\s+am\s+called))")
_STRONG = re.compile(
    rf"(?i)(\b{_STRONG_TRIGGER}\s*)((?:{_ANY_WORD})(?:\s+(?:{_PARTICLE}\s+)?(?:{_ANY_WORD})){{0,3}})")
_SALUTATION = re.compile(
    rf"(\b(?:Frau|Herrn?|Fr\.|Hr\.)\s+{_TITLE})((?:{_PARTICLE}\s+)?{_CAP_NAME})")
_BIRTH_NAME = re.compile(rf"(\bgeb\.\s+|\bgeborene[r]?\s+)({_CAP_NAME})")
_GREETING = re.compile(
    rf"((?i:\b(?:(?:mit\s+)?(?:freundlichen|besten|vielen|lieben|herzlichen|viele|liebe|beste)"
    rf"\s+)?gr(?:ü|ue)(?:ß|ss)(?:e|en)?|\bmfg|\blg|\bvg)[,!.]?\s+)({_CAP_NAME})")


def _strong_sub(match: re.Match[str]) -> str:
    """Keep the trigger; the name is the run of words up to the first stop word (a particle
    like "von der" counts when a name word follows it)."""
    words = match.group(2).split()
    taken = 0
    pending = 0
    for word in words:
        if _PARTICLE_RE.fullmatch(word):
            pending += 1
            continue
        if word.lower() in _STOP:
            break
        taken += pending + 1
        pending = 0
    if taken == 0:
        return match.group(0)
    parts = re.split(r"(\s+)", match.group(2))
    consumed = "".join(parts[: 2 * taken - 1])
    return match.group(1) + NAME + match.group(2)[len(consumed):]


def _keep_prefix(placeholder: str) -> Callable[[re.Match[str]], str]:
    def sub(match: re.Match[str]) -> str:
        return match.group(1) + placeholder
    return sub


# Nouns that follow "Herr"/"Frau" without being a name.
_ROLES = frozenset(re.findall(r"\S+", """
bürgermeister bürgermeisterin oberbürgermeister oberbürgermeisterin doktor professor
professorin präsident präsidentin minister ministerin pfarrer pfarrerin abgeordneter
abgeordnete kollege kollegin nachbar nachbarin vorsitzender vorsitzende sachbearbeiter
sachbearbeiterin direktor direktorin richter richterin anwalt anwältin kommissar kommissarin
dr prof dipl
"""))


def _name_sub(match: re.Match[str]) -> str:
    name = match.group(2)
    first = name.split()[0].lower()
    if (first in _STOP and not _PARTICLE_RE.fullmatch(first)) or first in _ROLES:
        return match.group(0)
    return match.group(1) + NAME


# -- phone numbers -----------------------------------------------------------------------------
_CASE_KEY = re.compile(
    r"(?i)(?:aktenzeichen|az\.?|vorgangs?nummer|vorgangs-?nr\.?|kundennummer|kunden-?nr\.?"
    r"|antragsnummer|antrags-?nr\.?|ticket(?:nummer)?|auftragsnummer|rechnungsnummer"
    r"|kassenzeichen|bearbeitungsnummer|referenz(?:nummer)?|buchungsnummer|nr\.)\s*[:#]?\s*$")
_PHONE_KEY = (r"(?:tel\.?|telefon(?:nummer)?|handy(?:nummer)?|mobil(?:nummer)?|festnetz"
              r"|rufnummer|fax|erreichbar\s+unter|erreichen\s+sie\s+mich\s+unter"
              r"|ruf(?:en\s+sie)?\s+(?:mich\s+)?an\s+unter|whatsapp|phone)")
_SEP = r"(?:[ \t]?[-/][ \t]?|[ \t])"
_PHONE = re.compile(
    rf"(?<![\w+/.,:])(?:(?:\+|00)[1-9]\d{{0,2}}(?:{_SEP}?\(0\))?|\(0\d{{1,5}}\)|0(?=\d))"
    rf"{_SEP}?\(?\d+\)?(?:{_SEP}?\(\d+\)|{_SEP}\(?\d+\)?)*(?![\w,.:]\d|\d)")
_PHONE_KEYED = re.compile(
    rf"(?i)(\b{_PHONE_KEY}\s*(?:ist|lautet|:|=|-|nr\.?)?\s*)(\+?\(?\d(?:[\d()]|{_SEP}(?=[\d(])){{4,24}})")


def _phone_sub(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if not 7 <= digits <= 15:
        return text
    if _CASE_KEY.search(match.string[max(0, match.start() - 40):match.start()]):
        return text
    return PHONE


def _phone_keyed_sub(match: re.Match[str]) -> str:
    if sum(ch.isdigit() for ch in match.group(2)) < 5:
        return match.group(0)
    return match.group(1) + PHONE


# Order matters (e-mail and IBAN run before these): the specific, checksum-backed patterns run first, so their digits are gone
# before the phone pattern looks at what is left; placeholders contain no digits.
_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (_TAX_ID_KEYED, _keep_prefix(TAX_ID)),
    (_TAX_NUMBER_KEYED, _keep_prefix(TAX_NUMBER)),
    (_BIRTH_DATE, _keep_prefix(BIRTH_DATE)),
    (_TAX_ID, _tax_id_sub),
    (_PHONE_KEYED, _phone_keyed_sub),
    (_PHONE, _phone_sub),
    (_STRONG, _strong_sub),
    (_BIRTH_NAME, _name_sub),
    (_SALUTATION, _name_sub),
    (_GREETING, _name_sub),
)


def redact(text: str) -> str:
    """``text`` with personal data replaced by placeholders; anything else unchanged."""
    if not text or not isinstance(text, str):
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _redact_ibans(text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """Redact every string inside nested dicts, lists and tuples (keys are kept as they are);
    other values are returned unchanged. Returns new containers, never mutates ``value``."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_value(item) for item in value)
    return value
