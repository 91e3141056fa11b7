"""Score fusion and aggregation (pure numpy)."""

from __future__ import annotations

import numpy as np

from retrieval.fusion import aggregate_max, rank_positions, rrf, scale_by_bound, softmax, top_k


def test_aggregate_max_per_service_with_floor() -> None:
    passage_service = np.array([0, 0, 1, 2])
    scores = np.array([0.9, 0.5, 0.7])
    ids = np.array([1, 0, 2])  # passages 1 (service 0), 0 (service 0), 2 (service 1)
    out = aggregate_max(scores, ids, passage_service, 4)
    assert out.tolist() == np.float32([0.9, 0.7, 0.5, 0.5]).tolist()  # 2,3 unretrieved: floor
    out = aggregate_max(scores, np.array([1, -1, 2]), passage_service, 3, floor=0.0)
    assert out.tolist() == np.float32([0.9, 0.7, 0.0]).tolist()


def test_rrf_rewards_agreement() -> None:
    a = np.array([3.0, 2.0, 1.0])
    b = np.array([1.0, 3.0, 2.0])
    fused = rrf([a, b], k=60)
    assert int(np.argmax(fused)) == 1  # ranks (1,0) beat (0,2) and (2,1)
    assert rank_positions(a).tolist() == [0, 1, 2]


def test_scale_softmax_topk() -> None:
    assert scale_by_bound(np.array([2.0, 4.0, 8.0]), 4.0).tolist() == [0.5, 1.0, 1.0]
    assert scale_by_bound(np.array([1.0]), 0.0).tolist() == [0.0]
    p = softmax(np.array([1.0, 1.0], dtype=np.float32))
    assert np.allclose(p, [0.5, 0.5])
    assert top_k(np.array([0.1, 0.9, 0.5]), 2).tolist() == [1, 2]
    assert top_k(np.array([0.1]), 0).tolist() == []
