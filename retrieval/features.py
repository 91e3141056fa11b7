"""Per-candidate features for reranking and per-query features for the decision. Pure.

Signals for one query over all services (dense and lexical scores) are turned into a feature
matrix for a short candidate list; :mod:`retrieval.rerank` scores it and :mod:`retrieval.decide`
reads the query-level features of the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from retrieval.fusion import rank_positions

__all__ = [
    "CANDIDATE_FEATURES",
    "QueryWord",
    "Signals",
    "candidate_features",
    "coverage",
    "name_cover",
    "name_match",
    "particle_conflict",
]

FloatArray = npt.NDArray[np.float32]

CANDIDATE_FEATURES = (
    "dense_max",  # best cosine of any passage of the service
    "dense_name",  # best cosine of its name or a synonym
    "dense_body",  # best cosine of a description, fee, document, ... passage
    "bm25_all",  # BM25 over all fields, as a share of the query's reachable maximum
    "bm25_name",  # BM25 over name and synonyms only, likewise
    "coverage",  # IDF-weighted share of the query's content words the service contains
    "dense_rr",  # 1 / (1 + dense rank)
    "bm25_rr",  # 1 / (1 + lexical rank)
    "name_match",  # how completely the query contains the service's best name or synonym
    "name_cover",  # how much of the query's word weight one name or synonym of the service covers
    "is_base",  # the service is the general one of a family of variants (retrieval.families)
    "is_variant",  # the service is a variant ("… – Studium", "… (Telefon-Termin)")
    "has_text",  # the service has a description (text-less entries are thin answers)
    "dense2_max",  # the second embedding model's best cosine (0 without one)
    "dense2_rr",  # 1 / (1 + its rank)
    "own_cover",  # name_cover over the service's own names (no synonym that is another's name)
    # dense cosines of the query without its stop and filler words ("ähm ich wollt fragen ...")
    "clean_max",
    "clean_name",
    "clean_body",
    "particle_conflict",  # the name says "abmelden" where the query says "anmelden" (1/0)
)

# Separable and inseparable verb particles whose swap turns a word into its counterpart
# ("anmelden"/"abmelden", "einreisen"/"ausreisen", "zuziehen"/"wegziehen"), longest first.
_PARTICLES = ("zuruck", "unter", "nach", "auf", "aus", "bei", "ein", "weg", "vor", "ab", "an",
              "um", "zu")
_MIN_ROOT = 4


@dataclass(frozen=True, slots=True)
class QueryWord:
    """A content word of the query: its term and, for compounds, the terms of its parts."""

    term: str
    parts: tuple[str, ...]
    weight: float  # IDF in the catalogue


@dataclass(frozen=True, slots=True)
class Signals:
    """Scores of every service for one query (arrays indexed by service position)."""

    dense_max: FloatArray
    dense_name: FloatArray
    dense_body: FloatArray
    bm25_all: FloatArray
    bm25_name: FloatArray
    # the second model's cosines ("a+b" model specs; zeros without one)
    dense2_max: FloatArray
    dense2_name: FloatArray
    # the first model's cosines for the query without stop words (same as dense_* when the
    # query has none)
    clean_max: FloatArray
    clean_name: FloatArray
    clean_body: FloatArray


def coverage(
    words: Sequence[QueryWord], service_terms: Sequence[frozenset[str]]
) -> tuple[FloatArray, FloatArray]:
    """Per service: covered share of the query's word weight, and the weight of the heaviest
    uncovered word. A compound counts as covered when the word or all its parts occur."""
    n = len(service_terms)
    total = sum(w.weight for w in words)
    covered = np.zeros(n, dtype=np.float32)
    missing = np.zeros(n, dtype=np.float32)
    if not words or total <= 0:
        return covered, missing
    for i, terms in enumerate(service_terms):
        share = 0.0
        worst = 0.0
        for word in words:
            if word.term in terms or (word.parts and all(p in terms for p in word.parts)):
                share += word.weight
            else:
                worst = max(worst, word.weight)
        covered[i] = share / total
        missing[i] = worst
    return covered, missing


def name_match(
    query_terms: frozenset[str], names: Sequence[Sequence[QueryWord]]
) -> float:
    """Best IDF-weighted share of a name's words that the query contains (0..1).

    A name word is contained when its term or all of its compound parts occur among the query's
    terms (which include the parts of the query's own compounds).
    """
    best = 0.0
    for words in names:
        total = 0.0
        hit = 0.0
        for word in words:
            total += word.weight
            if word.term in query_terms or (word.parts and all(p in query_terms
                                                               for p in word.parts)):
                hit += word.weight
        if total > 0:
            best = max(best, hit / total)
    return best


def name_cover(words: Sequence[QueryWord], names: Sequence[frozenset[str]]) -> float:
    """Best share of the query's word weight that one name or synonym contains (0..1).

    The query-side counterpart of :func:`name_match`: a one-word synonym such as "Auto" matches
    completely but covers little of "gebrauchtes Auto ummelden". ``names`` are the term sets of
    the service's names and synonyms (compound parts included).
    """
    total = sum(w.weight for w in words)
    if total <= 0:
        return 0.0
    best = 0.0
    for terms in names:
        hit = sum(w.weight for w in words
                  if w.term in terms or (w.parts and all(p in terms for p in w.parts)))
        best = max(best, hit / total)
    return best


def _split_particle(term: str) -> tuple[str, str] | None:
    for particle in _PARTICLES:
        if term.startswith(particle) and len(term) - len(particle) >= _MIN_ROOT:
            return particle, term[len(particle):]
    return None


def particle_conflict(query_terms: frozenset[str], name_terms: frozenset[str]) -> float:
    """1.0 when the service's name has a word the query has with another verb particle.

    Terms are index terms (folded, stemmed): "abmeld" in "Fahrzeug abmelden" against "anmeld"
    in "Auto anmelden" is a conflict: the same root, the opposite action. Words both sides share
    are ignored ("Wohnsitz anmelden" does not conflict with "anmelden und abmelden").
    """
    query_only = [s for s in map(_split_particle, query_terms - name_terms) if s is not None]
    if not query_only:
        return 0.0
    for term in name_terms - query_terms:
        split = _split_particle(term)
        if split is not None and any(p != split[0] and r == split[1] for p, r in query_only):
            return 1.0
    return 0.0


def candidate_features(
    signals: Signals,
    candidates: npt.NDArray[np.int64],
    coverage_of: Callable[[npt.NDArray[np.int64]], FloatArray],
    name_match_of: Callable[[npt.NDArray[np.int64]], FloatArray],
    name_cover_of: Callable[[npt.NDArray[np.int64]], FloatArray],
    own_cover_of: Callable[[npt.NDArray[np.int64]], FloatArray],
    priors: FloatArray,
    conflict_of: Callable[[npt.NDArray[np.int64]], FloatArray] | None = None,
) -> FloatArray:
    """Feature matrix (candidates x :data:`CANDIDATE_FEATURES`).

    ``priors`` holds the query-independent columns per service (is_base, is_variant, has_text).
    """
    dense_rank = rank_positions(signals.dense_max)
    lexical_rank = rank_positions(signals.bm25_all)
    cols = [
        signals.dense_max[candidates],
        signals.dense_name[candidates],
        signals.dense_body[candidates],
        signals.bm25_all[candidates],
        signals.bm25_name[candidates],
        coverage_of(candidates),
        1.0 / (1.0 + dense_rank[candidates]),
        1.0 / (1.0 + lexical_rank[candidates]),
        name_match_of(candidates),
        name_cover_of(candidates),
        *priors[candidates].T,
        signals.dense2_max[candidates],
        1.0 / (1.0 + rank_positions(signals.dense2_max)[candidates]),
        own_cover_of(candidates),
        signals.clean_max[candidates],
        signals.clean_name[candidates],
        signals.clean_body[candidates],
        conflict_of(candidates) if conflict_of is not None else np.zeros(len(candidates)),
    ]
    return np.stack([np.asarray(c, dtype=np.float32) for c in cols], axis=1)
