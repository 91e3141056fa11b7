"""Score fusion: passages -> services, dense + lexical -> one ranking. Pure numpy, no I/O."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "aggregate_max",
    "linear_scores",
    "rank_positions",
    "rrf",
    "scale_by_bound",
    "softmax",
    "top_k",
]

FloatArray = npt.NDArray[np.float32]


def aggregate_max(
    passage_scores: npt.ArrayLike,
    passage_ids: npt.ArrayLike,
    passage_service: npt.NDArray[np.int64],
    n_services: int,
    *,
    floor: float | None = None,
) -> FloatArray:
    """Per service the best score of its retrieved passages (max aggregation).

    ``passage_ids`` are indices into ``passage_service`` (-1 = no hit, ignored). Services with no
    retrieved passage get ``floor`` (default: the lowest retrieved score, an upper bound of what
    they could have scored in a top-k search).
    """
    scores = np.asarray(passage_scores, dtype=np.float32).ravel()
    ids = np.asarray(passage_ids, dtype=np.int64).ravel()
    keep = ids >= 0
    scores, ids = scores[keep], ids[keep]
    if floor is None:
        floor = float(scores.min()) if scores.size else 0.0
    out = np.full(n_services, -np.inf, dtype=np.float32)
    if scores.size:
        np.maximum.at(out, passage_service[ids], scores)
    out[np.isneginf(out)] = floor
    return out


def rank_positions(scores: FloatArray) -> npt.NDArray[np.int64]:
    """0-based rank of each item (0 = best), ties broken by index."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty_like(order)
    ranks[order] = np.arange(order.size)
    return ranks


def rrf(score_lists: Sequence[FloatArray], k: float = 60.0) -> FloatArray:
    """Reciprocal rank fusion (Cormack et al., 2009) of several score vectors over one item set."""
    if not score_lists:
        raise ValueError("nothing to fuse")
    out = np.zeros_like(np.asarray(score_lists[0], dtype=np.float32))
    for scores in score_lists:
        out += 1.0 / (k + 1.0 + rank_positions(np.asarray(scores, dtype=np.float32)))
    return out


def scale_by_bound(scores: FloatArray, bound: float) -> FloatArray:
    """Lexical scores as a share of the best score the query could reach (0..1)."""
    if bound <= 0.0:
        return np.zeros_like(scores)
    return np.clip(scores / bound, 0.0, 1.0).astype(np.float32)


def linear_scores(features: FloatArray, weights: FloatArray, bias: float = 0.0) -> FloatArray:
    """Weighted score fusion: one score per row of ``features`` (candidates x features)."""
    return (np.asarray(features, dtype=np.float32) @ np.asarray(weights, dtype=np.float32)
            + np.float32(bias))


def softmax(scores: FloatArray) -> FloatArray:
    if scores.size == 0:
        return scores
    shifted = np.exp(scores - scores.max())
    return (shifted / shifted.sum()).astype(np.float32)


def top_k(scores: FloatArray, k: int) -> npt.NDArray[np.int64]:
    """Indices of the ``k`` best scores, best first (stable for ties)."""
    k = min(k, scores.size)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]
