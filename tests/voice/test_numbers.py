"""German number words."""

from __future__ import annotations

import pytest

from voice.numbers import (
    date_words,
    digit_words,
    money_words,
    number_words,
    ordinal_words,
    time_words,
    year_words,
)


@pytest.mark.parametrize(("n", "words"), [
    (0, "null"), (1, "eins"), (11, "elf"), (16, "sechzehn"), (17, "siebzehn"),
    (21, "einundzwanzig"), (30, "dreißig"), (99, "neunundneunzig"), (100, "einhundert"),
    (101, "einhunderteins"), (121, "einhunderteinundzwanzig"), (1000, "eintausend"),
    (1234, "eintausendzweihundertvierunddreißig"), (2025, "zweitausendfünfundzwanzig"),
    (100000, "einhunderttausend"), (1000000, "eine Million"),
    (2000001, "zwei Millionen eins"), (3000000000, "drei Milliarden"), (-5, "minus fünf"),
])
def test_cardinals(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(("n", "words"), [
    (1, "erste"), (2, "zweite"), (3, "dritte"), (7, "siebte"), (8, "achte"),
    (12, "zwölfte"), (19, "neunzehnte"), (20, "zwanzigste"), (21, "einundzwanzigste"),
    (31, "einunddreißigste"), (100, "einhundertste"), (101, "einhunderterste"),
    (103, "einhundertdritte"),
])
def test_ordinals(n: int, words: str) -> None:
    assert ordinal_words(n) == words
    assert ordinal_words(n, "ten") == words + "n"


def test_years_money_times_dates_digits() -> None:
    assert year_words(1990) == "neunzehnhundertneunzig"
    assert year_words(2026) == "zweitausendsechsundzwanzig"
    assert money_words(25, 50) == "fünfundzwanzig Euro fünfzig"
    assert money_words(1) == "ein Euro"
    assert money_words(0, 50) == "fünfzig Cent"
    assert time_words(8, 30) == "acht Uhr dreißig"
    assert time_words(1) == "ein Uhr"
    assert time_words(13, 5) == "dreizehn Uhr fünf"
    assert date_words(1, 4, 2026) == "ersten April zweitausendsechsundzwanzig"
    assert date_words(3, 10, ending="te") == "dritte Oktober"
    assert digit_words("089") == "null acht neun"
