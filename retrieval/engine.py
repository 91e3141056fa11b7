"""The retrieval engine: catalogue + model -> ``search`` and ``decide``.

    retriever = Retriever.open(catalogue, model="usem3", index_dir=settings.index_dir)
    retriever.search("Was kostet ein Reisepass?")   # [Hit(service_id, score), ...]
    retriever.decide("Was kostet ein Reisepass?")   # Decision(ANSWER, hits, Aspect.FEES, ...)

Per query: dense passage search (FAISS, max per service, separately for names/synonyms and for
the body), BM25 over all fields and over names/synonyms, then a linear reranker over the
union of the best dense and lexical candidates, and a calibrated decision
(:mod:`retrieval.decide`). Everything is read-only after ``open``; concurrent ``search`` and
``decide`` calls from several threads are safe. FAISS runs single-threaded per query.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt
from sentence_transformers import SentenceTransformer

from bot.catalogue.model import Catalogue
from retrieval.api import Decision, DecisionKind, Hit
from retrieval.aspects import detect_aspect
from retrieval.bm25 import BM25, build_bm25
from retrieval.calibration import policy_for, reranker_for
from retrieval.decide import DecisionPolicy, decide_kind, decision_features
from retrieval.embedding import embed_documents, embed_queries, load_embedder, model_id
from retrieval.features import (
    CANDIDATE_FEATURES,
    QueryWord,
    Signals,
    candidate_features,
    coverage,
    name_match,
)
from retrieval.fusion import aggregate_max, scale_by_bound, softmax, top_k
from retrieval.index import (
    DenseIndex,
    IndexKind,
    IndexManifest,
    build_faiss,
    load_index,
    passages_hash,
    resolve_kind,
    save_index,
)
from retrieval.lexicon import catalogue_lexicon
from retrieval.normalize import Lexicon, analyze, word_terms
from retrieval.passages import PASSAGE_SCHEMA_VERSION, Passage, PassageKind, catalogue_passages
from retrieval.rerank import LinearModel

__all__ = ["Analysis", "Retriever", "rank_candidates"]

log = logging.getLogger(__name__)

_NAME_KINDS = frozenset({PassageKind.NAME, PassageKind.SYNONYM})
# Field weights of the all-fields BM25 document (BM25F by repetition).
_FIELD_REPEAT = {PassageKind.NAME: 3, PassageKind.SYNONYM: 2}
DENSE_CANDIDATES = 20
LEXICAL_CANDIDATES = 20
_MAX_PASSAGE_HITS = 1024
_LIFE_SITUATION_MIN_COSINE = 0.62


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the engine computed for one query (for ``decide``, evaluation, calibration)."""

    query: str
    candidates: npt.NDArray[np.int64]  # service positions, best first after reranking
    features: npt.NDArray[np.float32]  # candidates x CANDIDATE_FEATURES, same order
    scores: npt.NDArray[np.float32]  # reranker scores, same order
    probs: npt.NDArray[np.float32]  # softmax over the candidates
    decision_features: npt.NDArray[np.float32]
    service_ids: tuple[str, ...]  # the candidates' ids
    vector: npt.NDArray[np.float32]  # the query embedding
    missing: npt.NDArray[np.float32]  # per candidate: IDF of the heaviest query word it lacks
    n_words: int  # content words in the query


def rank_candidates(
    features: npt.NDArray[np.float32],
    missing: npt.NDArray[np.float32],
    n_words: int,
    reranker: LinearModel,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.float32],
           npt.NDArray[np.float32]]:
    """Rerank candidates: (order, scores, softmax probabilities, decision features). Pure."""
    scores = reranker.score(features)
    order = np.argsort(-scores, kind="stable")
    scores = scores[order]
    probs = softmax(scores)
    top = int(order[0])
    dfeats = decision_features(scores, probs, float(features[top, 5]), float(missing[top]),
                               float(features[top, 0]), float(features[top, 3]), n_words)
    return order, scores, probs, dfeats


class Retriever:
    """Read-only search over one catalogue with one embedding model."""

    def __init__(
        self,
        catalogue: Catalogue,
        embedder: SentenceTransformer,
        model_name: str,
        index: DenseIndex,
        passages: Sequence[Passage],
        lexicon: Lexicon,
        reranker: LinearModel,
        policy: DecisionPolicy,
    ) -> None:
        self.catalogue = catalogue
        self.model_name = model_name
        self._embedder = embedder
        self._index = index
        self._passages = tuple(passages)
        self._lexicon = lexicon
        self._reranker = reranker
        self._policy = policy
        self._service_ids = tuple(sorted(catalogue.services))
        position = {sid: i for i, sid in enumerate(self._service_ids)}
        self._passage_service = np.asarray(
            [position[p.service_id] for p in self._passages], dtype=np.int64
        )
        self._is_name = np.asarray([p.kind in _NAME_KINDS for p in self._passages], dtype=bool)
        n = len(self._service_ids)
        all_docs: list[list[str]] = [[] for _ in range(n)]
        name_docs: list[list[str]] = [[] for _ in range(n)]
        for p, s in zip(self._passages, self._passage_service):
            terms = analyze(p.text, lexicon)
            all_docs[s].extend(terms * _FIELD_REPEAT.get(p.kind, 1))
            if p.kind in _NAME_KINDS:
                name_docs[s].extend(terms)
        self._bm25_all: BM25 = build_bm25(all_docs)
        self._bm25_name: BM25 = build_bm25(name_docs)
        self._service_terms = tuple(frozenset(d) for d in all_docs)
        names: list[list[tuple[QueryWord, ...]]] = [[] for _ in range(n)]
        idf = self._bm25_all.term_idf
        for p, s in zip(self._passages, self._passage_service):
            if p.kind in _NAME_KINDS:
                words = tuple(QueryWord(t, parts, idf(t)) for t, parts in word_terms(p.text, lexicon))
                if words:
                    names[s].append(words)
        self._names = tuple(tuple(x) for x in names)
        self._situations = self._build_situations()

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        catalogue: Catalogue,
        *,
        model: str = "usem3",
        index_dir: Path | None = None,
        progress: Callable[[str], None] | None = None,
        index_kind: IndexKind = "auto",
        embedder: SentenceTransformer | None = None,
    ) -> Retriever:
        """Load the persisted index for this catalogue and model, or build (and persist) it.

        ``embedder`` lets a caller share an already loaded model (it must be ``model``).
        """
        say = progress or (lambda _msg: None)
        faiss.omp_set_num_threads(1)
        started = time.perf_counter()
        if embedder is None:
            say(f"Lade Embedding-Modell {model} …")
            embedder = load_embedder(model)
        passages = catalogue_passages(catalogue)
        dense_texts = [p.dense_text for p in passages]
        dim = embedder.get_embedding_dimension()
        expected = IndexManifest(
            catalogue_fingerprint=catalogue.fingerprint,
            model_id=model_id(embedder, model),
            passage_schema=PASSAGE_SCHEMA_VERSION,
            passages_hash=passages_hash(dense_texts),
            kind=resolve_kind(index_kind, len(passages)),
            dim=int(dim or 0),
            count=len(passages),
        )
        index = load_index(index_dir, expected) if index_dir is not None else None
        if index is None:
            say(f"Baue Suchindex: {len(passages)} Textabschnitte aus "
                f"{len(catalogue.services)} Leistungen …")
            vectors = embed_documents(embedder, dense_texts) if passages else np.zeros(
                (0, expected.dim), dtype=np.float32)
            raw = build_faiss(vectors, expected.kind)
            if index_dir is not None:
                save_index(index_dir, raw, expected)
            index = DenseIndex(raw, expected)
            log.info("retrieval.index.built", extra={"passages": len(passages)})
        else:
            say("Suchindex geladen (aktuell).")
        lexicon = catalogue_lexicon((p.text for p in passages), catalogue.city)
        retriever = cls(catalogue, embedder, model, index, passages, lexicon,
                        reranker_for(model), policy_for(model))
        say(f"Suche bereit nach {time.perf_counter() - started:.1f} s.")
        return retriever

    def _build_situations(self) -> tuple[tuple[str, frozenset[str], npt.NDArray[np.float32]], ...]:
        out = []
        for lsid in sorted(self.catalogue.life_situations):
            situation = self.catalogue.life_situations[lsid]
            texts = [situation.name, *situation.synonyms]
            terms = frozenset(t for text in texts for t in analyze(text, self._lexicon))
            vectors = embed_documents(self._embedder, texts) if texts else np.zeros((0, 1))
            out.append((lsid, terms, vectors))
        return tuple(out)

    # -- queries -------------------------------------------------------------------------------
    @property
    def service_ids(self) -> tuple[str, ...]:
        return self._service_ids

    def _query_words(self, query: str) -> list[QueryWord]:
        words: list[QueryWord] = []
        seen: set[str] = set()
        idf = self._bm25_all.term_idf
        for term, parts in word_terms(query, self._lexicon):
            if term in seen:
                continue
            seen.add(term)
            if term in self._bm25_all.vocabulary or not parts:
                weight = idf(term)
            else:
                weight = float(np.mean([idf(p) for p in parts]))
            words.append(QueryWord(term, parts, weight))
        return words

    def _signals(self, query: str, vector: npt.NDArray[np.float32], terms: list[str]) -> Signals:
        n = len(self._service_ids)
        k = min(self._index.count, _MAX_PASSAGE_HITS)
        scores, ids = self._index.search(vector[None, :], k)
        scores, ids = scores[0], ids[0]
        valid = ids >= 0
        floor = float(scores[valid].min()) if valid.any() else 0.0
        dense_max = aggregate_max(scores, ids, self._passage_service, n, floor=floor)
        is_name = np.zeros(ids.shape, dtype=bool)
        is_name[valid] = self._is_name[ids[valid]]
        dense_name = aggregate_max(scores[is_name], ids[is_name], self._passage_service, n,
                                   floor=floor)
        body = valid & ~is_name
        dense_body = aggregate_max(scores[body], ids[body], self._passage_service, n, floor=floor)
        bm_all = scale_by_bound(self._bm25_all.score(terms), self._bm25_all.max_score(terms))
        bm_name = scale_by_bound(self._bm25_name.score(terms), self._bm25_name.max_score(terms))
        return Signals(dense_max, dense_name, dense_body, bm_all, bm_name)

    def analyze(self, query: str) -> Analysis:
        """Rank candidates for ``query`` and compute the decision features."""
        n = len(self._service_ids)
        terms = analyze(query, self._lexicon)
        words = self._query_words(query)
        vector = embed_queries(self._embedder, [query])[0]
        if n == 0 or self._index.count == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Analysis(query, empty, np.zeros((0, len(CANDIDATE_FEATURES)), np.float32), np.zeros(0, np.float32),
                            np.zeros(0, np.float32), np.zeros(8, np.float32), (), vector,
                            np.zeros(0, np.float32), len(words))
        signals = self._signals(query, vector, terms)
        pool = np.unique(np.concatenate([
            top_k(signals.dense_max, DENSE_CANDIDATES),
            top_k(signals.bm25_all, LEXICAL_CANDIDATES) if terms else np.zeros(0, np.int64),
        ]))
        service_terms = self._service_terms

        def coverage_of(cands: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
            return coverage(words, [service_terms[c] for c in cands])[0]

        query_terms = frozenset(terms)
        names = self._names

        def name_match_of(cands: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
            return np.asarray([name_match(query_terms, names[c]) for c in cands], np.float32)

        feats = candidate_features(signals, pool, coverage_of, name_match_of)
        missing = coverage(words, [service_terms[c] for c in pool])[1]
        order, scores, probs, dfeats = rank_candidates(feats, missing, len(words), self._reranker)
        pool = pool[order]
        ids = tuple(self._service_ids[c] for c in pool)
        return Analysis(query, pool, feats[order], scores, probs, dfeats, ids, vector,
                        missing[order], len(words))

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """The ``k`` best services for ``query``, best first (scores: reranker, higher better)."""
        result = self.analyze(query)
        return [Hit(sid, float(s)) for sid, s in zip(result.service_ids[:k], result.scores[:k])]

    def decide(self, query: str, k: int = 5) -> Decision:
        """Answer, clarify or abstain, with the asked aspect and matching life situations."""
        result = self.analyze(query)
        return self.decision_from(result, k)

    def decision_from(self, result: Analysis, k: int = 5) -> Decision:
        kind, confidence, options = decide_kind(result.decision_features, result.probs,
                                                self._policy)
        hits = tuple(Hit(sid, float(s)) for sid, s in zip(result.service_ids, result.scores))
        if kind is DecisionKind.CLARIFY:
            hits = hits[: max(options, 2)]
        else:
            hits = hits[:k]
        return Decision(
            kind=kind,
            hits=hits,
            aspect=detect_aspect(result.query),
            confidence=confidence,
            life_situations=self._match_situations(result.query, result.vector),
        )

    def _match_situations(self, query: str, vector: npt.NDArray[np.float32]) -> tuple[str, ...]:
        """Life situations the query names (lexically or by a close dense match), best first."""
        if not self._situations:
            return ()
        terms = set(analyze(query, self._lexicon))
        scored: list[tuple[float, str]] = []
        for lsid, ls_terms, vectors in self._situations:
            cosine = float((vectors @ vector).max()) if len(vectors) else 0.0
            overlap = len(terms & ls_terms)
            if overlap or cosine >= _LIFE_SITUATION_MIN_COSINE:
                scored.append((overlap + cosine, lsid))
        scored.sort(reverse=True)
        return tuple(lsid for _, lsid in scored)
