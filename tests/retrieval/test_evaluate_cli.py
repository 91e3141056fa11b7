"""The evaluation CLI: its output contract and its input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.catalogue import default_catalogue_path
from retrieval.api import DecisionKind
from retrieval.evaluate import Question, Record, main, read_questions, summarise

KEYS = {"n", "answerable", "top1", "top3", "mrr", "answered_correct", "answered_wrong",
        "abstained_answerable", "abstain_correct", "p50_ms", "p95_ms"}


def test_bad_lines_are_reported_with_line_number(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "a", "service_ids": []}\n\n{"question": 1}\n',
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"q\.jsonl:3: 'question'"):
        read_questions(path)
    path.write_text('{"question": "a", "service_ids": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r":1: 'service_ids'"):
        read_questions(path)
    path.write_text("not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r":1: kein gültiges JSON"):
        read_questions(path)


def test_cli_exit_code_on_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text("[]\n", encoding="utf-8")
    assert main(["--catalogue", str(default_catalogue_path()), "--questions", str(path)]) == 2
    assert ":1:" in capsys.readouterr().err


def test_summary_counts_clarify_as_answer_with_first_hit() -> None:
    def rec(ids: tuple[str, ...], ranking: tuple[str, ...], kind: DecisionKind) -> Record:
        first = None if kind is DecisionKind.ABSTAIN else ranking[0]
        return Record(Question("q", ids), ranking, kind, first, 1.0)

    records = [
        rec(("a",), ("a", "b"), DecisionKind.ANSWER),  # correct
        rec(("b",), ("a", "b"), DecisionKind.CLARIFY),  # wrong answer (hits[0] = a)
        rec(("c",), ("a", "c"), DecisionKind.ABSTAIN),  # abstained on answerable
        rec((), ("a",), DecisionKind.ANSWER),  # answered unanswerable: wrong
        rec((), ("a",), DecisionKind.ABSTAIN),  # correct abstention
    ]
    s = summarise(records)
    assert set(s) == KEYS
    assert s["n"] == 5 and s["answerable"] == 3
    assert s["top1"] == round(1 / 3, 4) and s["top3"] == 1.0
    assert s["mrr"] == round((1 + 0.5 + 0.5) / 3, 4)
    assert s["answered_correct"] == round(1 / 3, 4)
    assert s["answered_wrong"] == 0.4
    assert s["abstained_answerable"] == round(1 / 3, 4)
    assert s["abstain_correct"] == 0.5


def test_cli_on_sample_city_prints_json_last(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"question": "Was kostet ein Personalausweis?", "service_ids": ["personalausweis"]}\n'
        '{"question": "Wie wird das Wetter morgen?", "service_ids": []}\n', encoding="utf-8")
    details = tmp_path / "details.json"
    code = main(["--catalogue", str(default_catalogue_path()), "--questions", str(questions),
                 "--json-details", str(details)])
    assert code == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(last)
    assert set(result) == KEYS and result["n"] == 2
    assert len(json.loads(details.read_text(encoding="utf-8"))) == 2
