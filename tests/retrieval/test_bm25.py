"""BM25 over token lists."""

from __future__ import annotations

import numpy as np

from retrieval.bm25 import build_bm25


def test_bm25_prefers_rare_matching_terms_and_bounds() -> None:
    docs = [["reisepass", "antrag", "gebuhr"], ["personalausweis", "antrag"], ["hund", "steuer"]]
    bm = build_bm25(docs)
    scores = bm.score(["reisepass", "antrag"])
    assert int(np.argmax(scores)) == 0
    assert scores[2] == 0.0
    assert bm.max_score(["reisepass", "antrag"]) >= scores.max() - 1e-6
    assert bm.score(["unbekannt"]).tolist() == [0.0, 0.0, 0.0]
    assert bm.term_idf("unbekannt") > bm.term_idf("antrag")


def test_bm25_empty_corpus() -> None:
    bm = build_bm25([])
    assert bm.score(["x"]).shape == (0,)
