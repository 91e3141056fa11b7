"""Catalogue -> passages, including malformed and empty entries."""

from __future__ import annotations

from bot.catalogue.model import Catalogue, Service
from retrieval.passages import PassageKind, catalogue_passages, service_passages, split_sections


def test_sections_join_headings_and_split_long_paragraphs() -> None:
    text = "Neuantrag\n\nSie sind umgezogen. Dann beantragen Sie neu.\n\n" + "Satz eins. " * 60
    sections = split_sections(text, limit=120)
    assert sections[0] == "Neuantrag: Sie sind umgezogen. Dann beantragen Sie neu."
    assert all(len(s) <= 120 for s in sections[1:])
    assert len(sections) > 3


def test_service_passages_kinds_and_context() -> None:
    service = Service(id="1", name="Reisepass", description="Sie beantragen den Pass.",
                      synonyms=("Pass", "pass", "Reisepass", ""), fees="37,50 Euro",
                      documents=("Foto",), processing_time="3 Wochen")
    passages = service_passages(service)
    kinds = [p.kind for p in passages]
    assert kinds.count(PassageKind.SYNONYM) == 1  # duplicates, empties, the name itself dropped
    assert PassageKind.FEES in kinds and PassageKind.DOCUMENTS in kinds
    fee = next(p for p in passages if p.kind is PassageKind.FEES)
    assert fee.dense_text == "Reisepass: Gebühren: 37,50 Euro"


def test_malformed_entries_do_not_break_passages() -> None:
    services = {
        "empty": Service(id="empty", name="", description=""),
        "ws": Service(id="ws", name="  \u200b ", description="\n\n\t", synonyms=(" ",)),
        "long": Service(id="long", name="X", description="A" * 5000),
        "html": Service(id="html", name="Test <b>", description="<p>kaputt"),
    }
    catalogue = Catalogue(city="Teststadt", services=services, offices={})
    passages = catalogue_passages(catalogue)
    assert {p.service_id for p in passages} == {"long", "html"}
    assert any(len(p.text) == 5000 for p in passages)  # one unsplittable sentence stays whole
