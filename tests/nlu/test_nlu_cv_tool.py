"""bench/nlu_cv.py: it runs the documented cross-validation command, and seeding numpy's global
RNG really fixes the folds Rasa draws from the real training data."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy
import pytest
from rasa.shared.nlu.training_data.loading import load_data

from bench import nlu_cv

with warnings.catch_warnings():
    # rasa.nlu.test imports apscheduler -> pkg_resources (itself deprecated) -> packaging, whose
    # pyparsing calls are deprecated: third-party warnings on import only
    warnings.simplefilter("ignore")
    from rasa.nlu.test import generate_folds

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_the_documented_command() -> None:
    args = nlu_cv.parse_args([])
    assert args.seed == 0
    assert nlu_cv.rasa_argv(args) == [
        "rasa", "test", "nlu", "--config", "config.yml", "--nlu", "nlu_data/nlu",
        "--cross-validation", "--folds", "5", "--out", "var/nlu-cv"]


def test_options_reach_the_rasa_command_line() -> None:
    args = nlu_cv.parse_args(["--seed", "7", "--folds", "3", "--config", "var/variant.yml",
                              "--out", "var/cv-variant"])
    argv = nlu_cv.rasa_argv(args)
    assert args.seed == 7
    assert argv[argv.index("--folds") + 1] == "3"
    assert argv[argv.index("--config") + 1] == "var/variant.yml"
    assert argv[argv.index("--out") + 1] == "var/cv-variant"


@pytest.mark.parametrize("bad", [["--seed", "-1"], ["--folds", "1"], ["--seed", "x"]])
def test_invalid_arguments_are_refused(bad: list[str]) -> None:
    with pytest.raises(SystemExit):
        nlu_cv.parse_args(bad)


def test_fingerprint_depends_on_fold_contents_not_order_within_a_fold() -> None:
    same = nlu_cv.folds_fingerprint([["b", "a"], ["c"]])
    assert same == nlu_cv.folds_fingerprint([["a", "b"], ["c"]])
    assert same != nlu_cv.folds_fingerprint([["a"], ["b", "c"]])
    assert same != nlu_cv.folds_fingerprint([["c"], ["a", "b"]])


def _drawn_folds(seed: int) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Rasa's reader imports more third-party modules lazily
        data = load_data(str(REPO / "nlu_data" / "nlu"))
    numpy.random.seed(seed)
    return nlu_cv.folds_fingerprint(
        [[example.get("text") for example in test.intent_examples]
         for _, test in generate_folds(5, data)])


def test_a_seed_fixes_rasas_folds_and_another_seed_changes_them() -> None:
    assert _drawn_folds(0) == _drawn_folds(0)
    assert _drawn_folds(0) != _drawn_folds(1)
