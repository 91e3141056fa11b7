"""Reranking a candidate list and the decision features it yields (pure)."""

from __future__ import annotations

import numpy as np

from retrieval.calibration import _aligned
from retrieval.decide import DECISION_FEATURES
from retrieval.engine import rank_candidates
from retrieval.features import CANDIDATE_FEATURES
from retrieval.rerank import LinearModel


def _reranker_on(feature: str) -> LinearModel:
    weights = tuple(1.0 if n == feature else 0.0 for n in CANDIDATE_FEATURES)
    k = len(CANDIDATE_FEATURES)
    return LinearModel(CANDIDATE_FEATURES, weights, (0.0,) * k, (1.0,) * k)


def test_order_probabilities_and_same_family_flag() -> None:
    feats = np.zeros((3, len(CANDIDATE_FEATURES)), dtype=np.float32)
    col = CANDIDATE_FEATURES.index("name_cover")
    feats[:, col] = [0.2, 0.9, 0.5]
    missing = np.zeros(3, dtype=np.float32)
    order, scores, probs, dfeats = rank_candidates(feats, missing, 2, _reranker_on("name_cover"),
                                                   np.asarray([7, 4, 4]))
    assert order.tolist() == [1, 2, 0]
    assert abs(float(probs.sum()) - 1.0) < 1e-5
    assert scores[0] > scores[1] > scores[2]
    assert dfeats[DECISION_FEATURES.index("same_family")] == 1.0
    assert dfeats[DECISION_FEATURES.index("name_cover")] == np.float32(0.9)
    _, _, _, other = rank_candidates(feats, missing, 2, _reranker_on("name_cover"),
                                     np.asarray([4, 7, 4]))
    assert other[DECISION_FEATURES.index("same_family")] == 0.0


def test_a_stale_calibration_is_aligned_by_feature_name() -> None:
    old = LinearModel(("coverage", "dense_max", "retired"), (2.0, 1.0, 5.0), (0.5, 0.4, 0.0),
                      (0.2, 0.1, 1.0), 0.3)
    new = _aligned(old, CANDIDATE_FEATURES)
    assert new.names == CANDIDATE_FEATURES
    assert new.weights[CANDIDATE_FEATURES.index("coverage")] == 2.0
    assert new.weights[CANDIDATE_FEATURES.index("dense_max")] == 1.0
    assert new.weights[CANDIDATE_FEATURES.index("name_cover")] == 0.0
    assert new.bias == 0.3
    row = np.zeros((1, len(CANDIDATE_FEATURES)))
    assert np.isfinite(new.score(row)).all()
