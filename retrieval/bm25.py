"""Okapi BM25 over pre-analysed token lists (numpy + scipy.sparse). Pure, no I/O.

Field weighting (BM25F-style) is done by the caller by repeating a field's tokens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

__all__ = ["BM25", "build_bm25"]


@dataclass(frozen=True, slots=True)
class BM25:
    """Term -> row of per-document BM25 weights (``weights`` is terms x documents, CSR)."""

    vocabulary: dict[str, int]
    weights: sparse.csr_matrix
    idf: npt.NDArray[np.float32]
    n_docs: int

    def score(self, terms: Sequence[str]) -> npt.NDArray[np.float32]:
        """BM25 score of every document for the query terms (a repeated term counts once)."""
        rows = sorted({self.vocabulary[t] for t in terms if t in self.vocabulary})
        if not rows:
            return np.zeros(self.n_docs, dtype=np.float32)
        summed = self.weights[rows].sum(axis=0)
        return np.asarray(summed, dtype=np.float32).ravel()

    def term_idf(self, term: str) -> float:
        """IDF of a term; unknown terms get the IDF of a term seen in no document."""
        index = self.vocabulary.get(term)
        if index is None:
            return float(np.log(1.0 + (self.n_docs + 0.5) / 0.5))
        return float(self.idf[index])

    def max_score(self, terms: Sequence[str]) -> float:
        """An upper bound of :meth:`score` for these terms: the sum of their largest weights."""
        total = 0.0
        for term in set(terms):
            index = self.vocabulary.get(term)
            if index is not None:
                row = self.weights.getrow(index)
                total += float(row.data.max()) if row.nnz else 0.0
        return total


def build_bm25(docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> BM25:
    """Index documents given as token lists."""
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    tfs: list[float] = []
    lengths = np.zeros(len(docs), dtype=np.float64)
    for d, tokens in enumerate(docs):
        lengths[d] = len(tokens)
        for term, count in Counter(tokens).items():
            t = vocabulary.setdefault(term, len(vocabulary))
            rows.append(t)
            cols.append(d)
            tfs.append(count)
    n_docs = len(docs)
    n_terms = len(vocabulary)
    tf = np.asarray(tfs, dtype=np.float64)
    col = np.asarray(cols, dtype=np.int64)
    row = np.asarray(rows, dtype=np.int64)
    df = np.bincount(row, minlength=n_terms).astype(np.float64)
    idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
    avg = float(lengths.mean()) if n_docs and lengths.mean() > 0 else 1.0
    norm = k1 * (1.0 - b + b * lengths[col] / avg)
    values = idf[row] * tf * (k1 + 1.0) / (tf + norm)
    weights = sparse.csr_matrix(
        (values.astype(np.float32), (row, col)), shape=(n_terms, n_docs), dtype=np.float32
    )
    return BM25(vocabulary=vocabulary, weights=weights, idf=idf.astype(np.float32), n_docs=n_docs)
