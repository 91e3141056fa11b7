"""Dense passage index (FAISS), persisted with a manifest so it is rebuilt only when stale.

Kinds: ``flat`` (exact inner product; the default and right up to ~100k passages), ``hnsw``
(graph ANN, for federal-scale catalogues of a million passages and more) and ``ivf`` (inverted
lists; smaller and faster to build than HNSW, a little less recall). ``auto`` picks flat below
:data:`ANN_THRESHOLD` passages and HNSW above.

On disk, ``<index_dir>/<key>/`` holds ``index.faiss`` and ``manifest.json``. The manifest names
what the index was built from (catalogue fingerprint, embedding model id, passage schema
version, a hash of the embedded passage texts) and the SHA-256 of the index file. Files are
written to temporary names and renamed into place, manifest last, so a crash leaves either the
old valid index or a stale one that is rebuilt, never a half-written one that is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt

__all__ = [
    "ANN_THRESHOLD",
    "DenseIndex",
    "IndexKind",
    "IndexManifest",
    "build_faiss",
    "load_index",
    "passages_hash",
    "save_index",
]

IndexKind = Literal["auto", "flat", "hnsw", "ivf"]
ANN_THRESHOLD = 100_000
MANIFEST_VERSION = 1
_INDEX_FILE = "index.faiss"
_MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True, slots=True)
class IndexManifest:
    catalogue_fingerprint: str
    model_id: str
    passage_schema: int
    passages_hash: str
    kind: str
    dim: int
    count: int
    index_sha256: str = ""
    manifest_version: int = MANIFEST_VERSION

    def same_source(self, other: IndexManifest) -> bool:
        """True when both describe an index of the same passages, model and kind."""
        keys = ("catalogue_fingerprint", "model_id", "passage_schema", "passages_hash", "kind",
                "dim", "count", "manifest_version")
        return all(getattr(self, k) == getattr(other, k) for k in keys)


def passages_hash(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def resolve_kind(kind: IndexKind, count: int) -> str:
    if kind == "auto":
        return "hnsw" if count >= ANN_THRESHOLD else "flat"
    return kind


def build_faiss(
    vectors: npt.NDArray[np.float32],
    kind: IndexKind = "flat",
    *,
    hnsw_m: int = 32,
    hnsw_ef_construction: int = 80,
    hnsw_ef_search: int = 64,
    ivf_lists: int | None = None,
    ivf_probe: int = 16,
    train_sample: int = 100_000,
    seed: int = 0,
) -> faiss.Index:
    """An inner-product index over L2-normalised rows (inner product = cosine)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count, dim = vectors.shape
    resolved = resolve_kind(kind, count)
    index: faiss.Index
    if resolved == "flat":
        index = faiss.IndexFlatIP(dim)
    elif resolved == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = hnsw_ef_construction
        index.hnsw.efSearch = hnsw_ef_search
    elif resolved == "ivf":
        lists = ivf_lists or max(1, min(65536, int(4 * np.sqrt(max(count, 1)))))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        sample = vectors
        if count > train_sample:
            sample = vectors[rng.choice(count, size=train_sample, replace=False)]
        index.train(sample)
        index.nprobe = ivf_probe
    else:
        raise ValueError(f"unknown index kind {kind!r}")
    if count:
        index.add(vectors)
    return index


class DenseIndex:
    """A read-only FAISS index; ``search`` is safe to call from several threads."""

    def __init__(self, index: faiss.Index, manifest: IndexManifest) -> None:
        self._index = index
        self.manifest = manifest

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    def search(
        self, queries: npt.NDArray[np.float32], k: int
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Top ``k`` passages per query row: (scores, passage indices), best first; -1 = none."""
        k = max(1, min(k, self.count)) if self.count else 1
        if not self.count:
            n = queries.shape[0]
            return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
        scores, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, ids

    def reconstruct_all(self) -> npt.NDArray[np.float32]:
        """All stored vectors (flat indexes only; used by tests and diagnostics)."""
        return np.asarray(self._index.reconstruct_n(0, self.count), dtype=np.float32)


def index_key(manifest: IndexManifest) -> str:
    model = re.sub(r"[^A-Za-z0-9._-]+", "_", manifest.model_id)[:60]
    return f"{manifest.catalogue_fingerprint or 'nofp'}-{model}-{manifest.kind}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_index(index_dir: Path, index: faiss.Index, manifest: IndexManifest) -> Path:
    """Write index and manifest under ``index_dir/<key>/`` atomically; returns the directory."""
    target = index_dir / index_key(manifest)
    target.mkdir(parents=True, exist_ok=True)
    data = faiss.serialize_index(index).tobytes()
    _atomic_write_bytes(target / _INDEX_FILE, data)
    final = IndexManifest(**{**asdict(manifest), "index_sha256": hashlib.sha256(data).hexdigest()})
    text = json.dumps(asdict(final), indent=2, sort_keys=True)
    _atomic_write_bytes(target / _MANIFEST_FILE, text.encode("utf-8"))
    return target


def _read_manifest(path: Path) -> IndexManifest | None:
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
        return IndexManifest(**raw)
    except (OSError, ValueError, TypeError):
        return None


def load_index(index_dir: Path, expected: IndexManifest) -> DenseIndex | None:
    """The persisted index for ``expected``, or None when missing, stale or damaged."""
    target = index_dir / index_key(expected)
    manifest = _read_manifest(target / _MANIFEST_FILE)
    if manifest is None or not manifest.same_source(expected):
        return None
    path = target / _INDEX_FILE
    try:
        if _sha256(path) != manifest.index_sha256:
            return None
        index = faiss.read_index(str(path))
    except (OSError, RuntimeError):
        return None
    if index.ntotal != expected.count or index.d != expected.dim:
        return None
    return DenseIndex(index, manifest)
