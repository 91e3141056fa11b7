"""Seeded NLU cross-validation: the same folds on every run, so pipeline variants compare fairly.

    .venv/bin/python bench/nlu_cv.py [--seed 0] [--folds 5] [--config config.yml]
                                     [--nlu nlu_data/nlu] [--out var/nlu-cv]

Runs exactly ``rasa test nlu --cross-validation`` (run from the repository root with
PYTHONPATH set to it, so the pipeline's ``bot.nlu`` components are this checkout's). Rasa's
``StratifiedKFold(shuffle=True)`` has no seed and draws from numpy's global RNG; this script
seeds that RNG first, so two runs with the same seed and data test on identical folds. It
prints a fingerprint of the folds (``folds sha256: ...``) to check that. DIET is seeded by its
``random_seed`` in config.yml; whether TensorFlow's multi-threaded CPU kernels leave some
run-to-run noise on top was not measured. Differences between seeds show the fold spread.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of numpy's global RNG")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--config", default="config.yml")
    parser.add_argument("--nlu", default="nlu_data/nlu")
    parser.add_argument("--out", default="var/nlu-cv")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    return args


def rasa_argv(args: argparse.Namespace) -> list[str]:
    """The documented ``rasa test nlu --cross-validation`` command line for these arguments."""
    return ["rasa", "test", "nlu", "--config", args.config, "--nlu", args.nlu,
            "--cross-validation", "--folds", str(args.folds), "--out", args.out]


def folds_fingerprint(test_texts: Sequence[Sequence[str]]) -> str:
    """sha256 over each fold's test examples, in fold order; equal folds give equal prints."""
    digest = hashlib.sha256()
    for fold in test_texts:
        for text in sorted(fold):
            digest.update(text.encode() + b"\0")
        digest.update(b"\1")
    return digest.hexdigest()


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

    import numpy
    import rasa.nlu.test as nlu_test
    from rasa.__main__ import main as rasa_main

    drawn: list[list[str]] = []
    generate_folds = nlu_test.generate_folds

    def recording_folds(n: int, data: Any) -> Iterator[Any]:
        for train, test in generate_folds(n, data):
            drawn.append([example.get("text") for example in test.intent_examples])
            yield train, test

    # rasa.nlu.test.cross_validate looks generate_folds up in its module at call time
    nlu_test.generate_folds = recording_folds
    numpy.random.seed(args.seed)
    sys.argv = rasa_argv(args)
    try:
        rasa_main()
    finally:
        print(f"seed {args.seed}, {len(drawn)} folds, folds sha256: {folds_fingerprint(drawn)}")


if __name__ == "__main__":
    main()
