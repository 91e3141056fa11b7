"""Answer, ask to choose, or abstain: a calibrated decision over query-level features. Pure.

A logistic model (:class:`~retrieval.rerank.LinearModel`) turns the features of the reranked
result into ``confidence`` = P(the first service is right); it is fitted on the development
questions, unanswerable ones included (see :mod:`retrieval.calibrate`). Then:

- below ``clarify_at`` -> ABSTAIN: the catalogue has no good answer, offer a human;
- otherwise CLARIFY when other candidates are close to the first (a second service with at
  least ``tie_ratio`` of the first's softmax probability; below ``answer_at`` half of that
  suffices), else ANSWER.

``clarify_at`` is the operating point: it is chosen on the development set (cross-validated) so
that the share of wrong answers stays under the target while as many questions as possible are
answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from retrieval.api import DecisionKind
from retrieval.rerank import LinearModel, sigmoid

__all__ = ["DECISION_FEATURES", "DecisionPolicy", "decide_kind", "decision_features"]

DECISION_FEATURES = (
    "top_score",  # reranker score of the first service
    "margin",  # its lead over the second
    "top_prob",  # softmax probability of the first among the candidates
    "coverage",  # share of the query's word weight found in the first service
    "missing_weight",  # IDF of the heaviest query word the first service lacks
    "dense_max",  # best dense cosine of the first service
    "bm25_all",  # its lexical score share
    "n_words",  # content words in the query
    "name_cover",  # share of the query's word weight one name/synonym of the first covers
    "dense2_max",  # the second embedding model's cosine for the first (0 without one)
    "same_family",  # the first and the second service are variants of one family
)


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    model: LinearModel
    answer_at: float = 0.6
    clarify_at: float = 0.35
    # A second service whose softmax probability is at least this share of the first's is a
    # near-tie: ask instead of guessing.
    tie_ratio: float = 0.6
    max_options: int = 3


def decision_features(
    scores: npt.NDArray[np.float32],
    probs: npt.NDArray[np.float32],
    top_coverage: float,
    top_missing: float,
    top_dense: float,
    top_bm25: float,
    n_words: int,
    name_cover: float = 0.0,
    dense2: float = 0.0,
    same_family: bool = False,
) -> npt.NDArray[np.float32]:
    """The :data:`DECISION_FEATURES` of a reranked candidate list (best first)."""
    top = float(scores[0]) if scores.size else 0.0
    margin = float(scores[0] - scores[1]) if scores.size > 1 else 10.0
    prob = float(probs[0]) if probs.size else 0.0
    return np.asarray(
        [top, margin, prob, top_coverage, top_missing, top_dense, top_bm25, float(n_words),
         name_cover, dense2, float(same_family)],
        dtype=np.float32,
    )


def decide_kind(
    features: npt.ArrayLike,
    probs: Sequence[float] | npt.NDArray[np.float32],
    policy: DecisionPolicy,
) -> tuple[DecisionKind, float, int]:
    """(kind, confidence, number of services to offer) for one query."""
    if len(probs) == 0:
        return DecisionKind.ABSTAIN, 0.0, 0
    confidence = float(sigmoid(policy.model.score(np.asarray(features)[None, :]))[0])
    p = np.asarray(probs, dtype=np.float64)
    # Below answer_at a weaker second candidate already makes it worth asking.
    ratio = policy.tie_ratio if confidence >= policy.answer_at else policy.tie_ratio / 2
    close = 1 + int(np.sum(p[1 : policy.max_options] >= ratio * p[0]))
    if confidence < policy.clarify_at:
        return DecisionKind.ABSTAIN, confidence, 0
    if close > 1:
        return DecisionKind.CLARIFY, confidence, close
    return DecisionKind.ANSWER, confidence, 1
