"""German number words for speech output (pure): cardinals, ordinals, years, money, times.

    >>> number_words(1234)
    'eintausendzweihundertvierunddreißig'
    >>> ordinal_words(21, "ten")
    'einundzwanzigsten'
"""

from __future__ import annotations

_UNITS = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun",
          "zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn",
          "achtzehn", "neunzehn"]
_TENS = ["", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig",
         "neunzig"]
_DIGITS = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"]
MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
          "Oktober", "November", "Dezember"]
MAX_NUMBER = 999_999_999_999


def _below_100(n: int, *, final: bool) -> str:
    if n < 20:
        if n == 1:
            return "eins" if final else "ein"
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return _TENS[tens]
    return ("ein" if unit == 1 else _UNITS[unit]) + "und" + _TENS[tens]


def _below_1000(n: int, *, final: bool) -> str:
    hundreds, rest = divmod(n, 100)
    head = (("ein" if hundreds == 1 else _UNITS[hundreds]) + "hundert") if hundreds else ""
    if rest == 0:
        return head
    return head + _below_100(rest, final=final)


def number_words(n: int) -> str:
    """Cardinal number as one German word (``eins`` when standing alone)."""
    if n < 0:
        return "minus " + number_words(-n)
    if n > MAX_NUMBER:
        return digit_words(str(n))
    if n == 0:
        return "null"
    billions, rest = divmod(n, 1_000_000_000)
    millions, rest = divmod(rest, 1_000_000)
    thousands, rest = divmod(rest, 1000)
    parts: list[str] = []
    if billions:
        parts.append("eine Milliarde" if billions == 1
                     else _below_1000(billions, final=False) + " Milliarden")
    if millions:
        parts.append("eine Million" if millions == 1
                     else _below_1000(millions, final=False) + " Millionen")
    tail = ""
    if thousands:
        tail += _below_1000(thousands, final=False) + "tausend"
    if rest:
        tail += _below_1000(rest, final=True)
    if tail:
        parts.append(tail)
    return " ".join(parts)


def ordinal_words(n: int, ending: str = "te") -> str:
    """Ordinal stem plus ``ending`` ("te", "ten", "ter"): 1 → erste, 3 → dritten, 20 → zwanzigste."""
    if n == 0:
        return "null" + ending
    small = n % 100
    if 0 < small < 20:
        head = number_words(n - small) if n >= 100 else ""
        stem = {1: "ers", 3: "drit", 7: "sieb", 8: "ach"}.get(small) or _below_100(small, final=True)
        return head + stem + ending
    return number_words(n) + "s" + ending


def year_words(year: int) -> str:
    """Years are read in hundreds before 2000: 1990 → neunzehnhundertneunzig."""
    if 1100 <= year <= 1999:
        hundreds, rest = divmod(year, 100)
        return _UNITS[hundreds] + "hundert" + (_below_100(rest, final=True) if rest else "")
    return number_words(year)


def digit_words(digits: str) -> str:
    """Digit by digit, e.g. for phone numbers: '089' → 'null acht neun'."""
    return " ".join(_DIGITS[int(d)] for d in digits if d.isdigit())


def money_words(euros: int, cents: int = 0) -> str:
    """25, 50 → 'fünfundzwanzig Euro fünfzig'; 0, 50 → 'fünfzig Cent'; 1, 0 → 'ein Euro'."""
    if euros == 0 and cents:
        return number_words(cents) + " Cent"
    head = "ein Euro" if euros == 1 else number_words(euros) + " Euro"
    return head + (" " + number_words(cents) if cents else "")


def time_words(hour: int, minute: int = 0) -> str:
    """8, 30 → 'acht Uhr dreißig'; 13, 0 → 'dreizehn Uhr'; 1, 0 → 'ein Uhr'."""
    head = ("ein" if hour == 1 else number_words(hour)) + " Uhr"
    return head + (" " + number_words(minute) if minute else "")


def date_words(day: int, month: int, year: int | None = None, *, ending: str = "ten") -> str:
    """12, 3, 2025 → 'zwölften März zweitausendfünfundzwanzig'."""
    text = f"{ordinal_words(day, ending)} {MONTHS[month - 1]}"
    return text + (" " + year_words(year) if year is not None else "")
