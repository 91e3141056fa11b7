"""Service families: variants of one base service."""

from __future__ import annotations

from retrieval.families import family_key, service_families


def test_family_key_strips_the_qualifier() -> None:
    assert family_key("Altersrente (Telefon-Termin)") == "altersrente"
    assert family_key("Aufenthaltserlaubnis – Studium") == "aufenthaltserlaubnis"
    assert family_key("Duldung - Ausbildung (§ 60c AufenthG)") == "duldung"
    assert family_key("Gewerbe-Anmeldung") == "gewerbe-anmeldung"  # a hyphen in a word stays


def test_base_services_and_variants() -> None:
    fam = service_families({
        "1": "Wohnsitzanmeldung", "2": "Wohnsitzanmeldung – Familie",
        "3": "Niederlassungserlaubnis", "4": "Niederlassungserlaubnis für Fachkräfte",
        "5": "Altersrente (Telefon-Termin)", "6": "Altersrente (Vor-Ort-Termin)",
        "7": "Reisepass",
    })
    assert fam.is_base == {"1", "3"}
    assert fam.is_variant == {"2", "4", "5", "6"}
    assert fam.same_family("1", "2") and fam.same_family("3", "4") and fam.same_family("5", "6")
    assert not fam.same_family("1", "3")
    assert not fam.same_family("7", "1")
