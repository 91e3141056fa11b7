"""Redaction rules: what is replaced, and — just as important — what must stay untouched."""

from __future__ import annotations

import pytest

from bot.privacy.redact import iban_valid, redact, redact_value, tax_id_valid

REDACTED = [
    # names after triggers
    ("Ich heiße Anna Schmidt und brauche einen Pass.", "Ich heiße [NAME] und brauche einen Pass."),
    ("ich heiße max mustermann", "ich heiße [NAME]"),
    ("Ich heisse Ömer Yıldız.", "Ich heisse [NAME]."),
    ("mein Name ist Karl-Heinz von der Heide, ich wohne in Musterstadt",
     "mein Name ist [NAME], ich wohne in Musterstadt"),
    ("Mein Name lautet Anna-Lena Müller-Lüdenscheidt", "Mein Name lautet [NAME]"),
    ("Name: Jürgen Müller", "Name: [NAME]"),
    ("Vorname: Jürgen, Nachname: Müller", "Vorname: [NAME], Nachname: [NAME]"),
    ("Hier spricht Peter Meier aus der Weststadt", "Hier spricht [NAME] aus der Weststadt"),
    ("Hier spricht Frau Dr. Weber.", "Hier spricht Frau Dr. [NAME]."),
    ("Ich habe mit Herrn Schmidt gesprochen", "Ich habe mit Herrn [NAME] gesprochen"),
    ("Frau von Bülow hat angerufen", "Frau [NAME] hat angerufen"),
    ("Viele Grüße\nAnna Schmidt", "Viele Grüße\n[NAME]"),
    ("Mit freundlichen Grüßen, Hans Weber", "Mit freundlichen Grüßen, [NAME]"),
    ("MfG Peter", "MfG [NAME]"),
    ("Anna Schmidt geb. Meier", "Anna Schmidt geb. [NAME]"),
    ("my name is John Smith", "my name is [NAME]"),
    # phone numbers
    ("Meine Nummer ist 0170 1234567.", "Meine Nummer ist [TELEFON]."),
    ("erreichbar unter 0151-23456789", "erreichbar unter [TELEFON]"),
    ("Tel.: 030/12345678", "Tel.: [TELEFON]"),
    ("(030) 1234567 bitte", "[TELEFON] bitte"),
    ("+49 (0)30 123 456-78", "[TELEFON]"),
    ("+49 170 1234567", "[TELEFON]"),
    ("+491701234567", "[TELEFON]"),
    ("0049 89 1234567", "[TELEFON]"),
    ("+43 1 2345678", "[TELEFON]"),
    ("call +1 212 555 0100", "call [TELEFON]"),
    ("Telefon 0123 456-1000", "Telefon [TELEFON]"),
    ("Handy: 1234567", "Handy: [TELEFON]"),
    ("Rückruf an 06221 54-0 bitte", "Rückruf an [TELEFON] bitte"),
    # e-mail
    ("meine E-Mail: anna.schmidt+amt@example.co.uk bitte", "meine E-Mail: [E-MAIL] bitte"),
    ("Schreiben Sie an max_m@web.de.", "Schreiben Sie an [E-MAIL]."),
    ("kontakt@müller-bau.de", "[E-MAIL]"),
    # IBAN (valid checksums)
    ("IBAN DE89 3704 0044 0532 0130 00 bitte", "IBAN [IBAN] bitte"),
    ("Konto DE89370400440532013000.", "Konto [IBAN]."),
    ("de89 3704 0044 0532 0130 00", "[IBAN]"),
    ("AT61 1904 3002 3457 3201 und GB82 WEST 1234 5698 7654 32", "[IBAN] und [IBAN]"),
    ("CH9300762011623852957", "[IBAN]"),
    ("IBAN: DE89 3704 0044 0532 0130 01", "IBAN: [IBAN]"),  # mistyped, but said to be one
    # tax ids
    ("Steuer-ID: 86095742719", "Steuer-ID: [STEUER-ID]"),
    ("meine Steueridentifikationsnummer ist 12 345 678 901", "meine Steueridentifikationsnummer ist [STEUER-ID]"),
    ("Die Nummer 86 095 742 719 steht im Brief", "Die Nummer [STEUER-ID] steht im Brief"),
    ("47036892816", "[STEUER-ID]"),
    ("Steuernummer 123/456/78901", "Steuernummer [STEUERNUMMER]"),
    ("St.-Nr.: 21/815/08150", "St.-Nr.: [STEUERNUMMER]"),
    ("Steuernummer 2181508150", "Steuernummer [STEUERNUMMER]"),
    # dates of birth
    ("geboren am 12.03.1985 in Köln", "geboren am [GEBURTSDATUM] in Köln"),
    ("geb. 3. März 1985", "geb. [GEBURTSDATUM]"),
    ("geb. am 03.03.85", "geb. am [GEBURTSDATUM]"),
    ("Geburtsdatum: 1985-03-12", "Geburtsdatum: [GEBURTSDATUM]"),
    ("Mein Geburtstag ist der 1. Januar 2000", "Mein Geburtstag ist der [GEBURTSDATUM]"),
    ("ich bin am 12/03/1985 geboren, Geburtsdatum 12.3.1985",
     "ich bin am 12/03/1985 geboren, Geburtsdatum [GEBURTSDATUM]"),
    ("Ich wurde geboren am 5. Dez. 1990", "Ich wurde geboren am [GEBURTSDATUM]"),
    # several at once
    ("Ich heiße Anna Schmidt, Tel. 0170 1234567, anna@example.org, geb. 01.02.1990",
     "Ich heiße [NAME], Tel. [TELEFON], [E-MAIL], geb. [GEBURTSDATUM]"),
]

UNTOUCHED = [
    "Was kostet ein Reisepass? 37,00 € oder 37 Euro?",
    "Der Personalausweis kostet 22,80 Euro unter 24 Jahren.",
    "Ich wohne in 12340 Musterstadt",
    "PLZ 01067 Dresden",
    "Seit 2024 gilt das neue Gesetz, im Jahr 1985 war das anders.",
    "Öffnungszeiten 8:00-12:00 und 14:00 - 18:00 Uhr, Sa 09:00-12:00",
    "Leistung 1063441 und 10115 Berlin",
    "Aktenzeichen 0123456789 bitte prüfen",
    "Vorgangsnummer: 0815 4711 42",
    "Kassenzeichen 0512345678901",
    "Termin am 12.03.2025 um 10:30",
    "ich bin 35 Jahre alt und mein Kind ist 2019 geboren",
    "Herr Bürgermeister, ich habe eine Frage",
    "ich heiße so wie mein Vater",
    "Ich brauche einen Termin für die Frau und die Kinder",
    "Die Zahl 12345678901 ist keine Steuer-Id",  # wrong check digit, no keyword before it
    "Ich habe 2 Kinder und 3 Hunde, 1.200 Euro Einkommen, 12.000.000 Einwohner",
    "Bauantrag nach § 64 BauO, Seite 12-14",
    "Mein Name ist nicht wichtig",
    "Version 3.6.21, Zimmer 1.23, Raum 0.12",
    "https://www.musterstadt.example/leistungen/personalausweis",
    "",
]


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", UNTOUCHED)
def test_ordinary_text_stays_untouched(text: str) -> None:
    assert redact(text) == text


def test_a_bad_checksum_is_no_iban() -> None:
    # Without the word "IBAN" before it, a failing checksum means: not an IBAN. (Its digits
    # may still look like a phone number, and are then redacted as one.)
    assert "[IBAN]" not in redact("DE89 3704 0044 0532 0130 01 passt nicht")


def test_redaction_is_idempotent() -> None:
    for text, _ in REDACTED:
        once = redact(text)
        assert redact(once) == once


@pytest.mark.parametrize(("iban", "valid"), [
    ("DE89370400440532013000", True), ("DE89 3704 0044 0532 0130 00", True),
    ("DE89370400440532013001", False), ("DE8937040044053201300", False),
    ("GB82WEST12345698765432", True), ("XX00", False),
])
def test_iban_checksum(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid


@pytest.mark.parametrize(("tax_id", "valid"), [
    ("86095742719", True), ("47036892816", True), ("65929970489", True),
    ("86095742718", False),  # wrong check digit
    ("06095742719", False),  # leading zero
    ("12345678901", False),  # no repeated digit
    ("11111111111", False),
])
def test_tax_id_check_digit(tax_id: str, valid: bool) -> None:
    assert tax_id_valid(tax_id) is valid


def test_redact_value_walks_nested_structures_without_mutating() -> None:
    record = {"text": "ich heiße Anna Schmidt", "n": 3, "tags": ["0170 1234567", None],
              "inner": {"mail": ("a@b.de",)}, "ok": True}
    out = redact_value(record)
    assert out == {"text": "ich heiße [NAME]", "n": 3, "tags": ["[TELEFON]", None],
                   "inner": {"mail": ("[E-MAIL]",)}, "ok": True}
    assert record["text"] == "ich heiße Anna Schmidt"


def test_non_text_is_returned_as_is() -> None:
    assert redact_value(42) == 42
    assert redact_value(None) is None
