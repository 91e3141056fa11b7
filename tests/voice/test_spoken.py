"""Answers made speakable: fees, dates, times, phone numbers, abbreviations, links."""

from __future__ import annotations

import pytest

from voice.spoken import extract_links, sentences, speakable, strip_markdown


@pytest.mark.parametrize(("text", "spoken"), [
    ("Die Gebühr beträgt 37,50 €.", "Die Gebühr beträgt siebenunddreißig Euro fünfzig."),
    ("Ein Pass kostet 70 EUR, ermäßigt € 37,50.",
     "Ein Pass kostet siebzig Euro, ermäßigt siebenunddreißig Euro fünfzig."),
    ("Kosten: 1.234,00 Euro", "Kosten: eintausendzweihundertvierunddreißig Euro"),
    ("Fällig am 1.4.2026.", "Fällig am ersten April zweitausendsechsundzwanzig."),
    ("Bis 31.12.2025 gilt das.", "Bis zum einunddreißigsten Dezember zweitausendfünfundzwanzig gilt das."),
    ("Der 1. Januar ist frei.", "Der erste Januar ist frei."),
    ("Öffnungszeiten: Mo–Fr 8:00–12:30 Uhr, Do bis 18 Uhr.",
     "Öffnungszeiten: Montag bis Freitag acht Uhr bis zwölf Uhr dreißig, Donnerstag bis achtzehn Uhr."),
    ("Geöffnet 8–12 Uhr.", "Geöffnet acht bis zwölf Uhr."),
    ("Termin um 9.15 Uhr", "Termin um neun Uhr fünfzehn"),
    ("Telefon 089 233-96000", "Telefon null acht neun, zwei drei drei, neun sechs null null null"),
    ("Tel. +49 89 233 96000", "Telefon plus vier neun, acht neun, zwei drei drei, neun sechs null null null"),
    ("Im 3. Stock, Zimmer 12. Dann links.", "Im dritten Stock, Zimmer zwölf. Dann links."),
    ("Dauer ca. 3-4 Wochen, z. B. im Sommer.",
     "Dauer circa drei bis vier Wochen, zum Beispiel im Sommer."),
    ("19 % mehr, 2,5 Tage", "neunzehn Prozent mehr, zwei Komma fünf Tage"),
    ("Schreiben Sie an buergerbuero@stadt-example.de.",
     "Schreiben Sie an buergerbuero at stadt Strich example Punkt de."),
    ("Reisepass/Personalausweis", "Reisepass oder Personalausweis"),
])
def test_speakable(text: str, spoken: str) -> None:
    assert speakable(text) == spoken


def test_markdown_becomes_sentences() -> None:
    text = "**Wichtig:** Bringen Sie mit:\n- Personalausweis\n- Foto\n# Kosten\n`frei`"
    assert strip_markdown(text) == "Wichtig: Bringen Sie mit: Personalausweis. Foto. Kosten. frei."


def test_links_are_removed_and_returned() -> None:
    text, links = extract_links("Mehr Infos unter https://stadt.example/pass. Oder "
                                "[online buchen](https://termine.example/x) bzw. anrufen.")
    assert text == "Mehr Infos. Oder online buchen bzw. anrufen."
    assert links == ("https://stadt.example/pass", "https://termine.example/x")


def test_sentences_split_for_early_synthesis() -> None:
    assert sentences("Erster Satz. Zweiter Satz! Dritter? 4 Wochen.") == [
        "Erster Satz.", "Zweiter Satz!", "Dritter?", "4 Wochen."]
