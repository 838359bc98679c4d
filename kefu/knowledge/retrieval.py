"""Hybrid retrieval: BM25 over Jieba words (lexical) and sentence embeddings (dense), fused."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from kefu.knowledge.embeddings import Embedder
from kefu.knowledge.lexical import Bm25Index
from kefu.text import normalize_text

_NOISE = re.compile(r"[Ll][Tt][\s\-_]*(?:\d[\s\-_]*){9}\d|[\s\W_]+")


def clean_query(text: str) -> str:
    """The text as the indexes see it: normalised, order numbers, spaces and punctuation removed."""
    return _NOISE.sub("", normalize_text(text)).lower()


@dataclass(frozen=True)
class Unit:
    """One retrievable text: a FAQ question (``kind="faq"``) or a document chunk (``kind="doc"``)."""

    kind: str
    key: str
    text: str


@dataclass(frozen=True)
class Hit:
    unit: Unit
    score: float
    lexical: float
    dense: float


class EmbeddingCache:
    """Vectors of passages keyed by their text's hash, persisted as one ``.npz`` file, so that a
    rebuild embeds only texts it has not seen."""

    def __init__(self, path: Path | None, embedder: Embedder) -> None:
        self._path = path
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        if path is not None and path.is_file():
            with np.load(path) as data:
                if data["dim"].item() == embedder.dim:
                    self._vectors = dict(zip(data["keys"].tolist(), data["vectors"]))

    @staticmethod
    def _key(text: str, as_query: bool) -> str:
        return ("q:" if as_query else "p:") + hashlib.sha1(text.encode("utf-8")).hexdigest()

    def embed(self, texts: Sequence[str], as_queries: bool = False) -> tuple[np.ndarray, int]:
        """Vectors for ``texts`` (embedded as queries or as passages) and how many were computed."""
        keys = [self._key(t, as_queries) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self._vectors}.items())
        if missing:
            embed = self._embedder.embed_queries if as_queries else self._embedder.embed_passages
            vectors = embed([t for _, t in missing])
            self._vectors.update({k: v for (k, _), v in zip(missing, vectors)})
        if not texts:
            return np.zeros((0, self._embedder.dim), dtype=np.float32), 0
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32), len(missing)

    def save(self, keep: Sequence[tuple[str, bool]]) -> None:
        """Writes the vectors of ``keep`` (the current ``(text, as_query)`` pairs), forgets the rest."""
        if self._path is None:
            return
        keys = list(dict.fromkeys(self._key(text, as_query) for text, as_query in keep))
        self._path.parent.mkdir(parents=True, exist_ok=True)
        vectors = np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, self._embedder.dim))
        tmp = self._path.with_suffix(".tmp.npz")
        np.savez(
            tmp, keys=np.array(keys), vectors=vectors.astype(np.float32), dim=np.array(self._embedder.dim)
        )
        tmp.replace(self._path)


class HybridIndex:
    """Scores units against a query: ``weight * dense + (1 - weight) * lexical``, both in [0, 1].

    Lexical: BM25 over Jieba's word segmentation, normalised by the query's score against itself
    (:class:`~kefu.knowledge.lexical.Bm25Index`). Dense: cosine of sentence embeddings, rescaled
    from the embedder's ``floor``; FAQ questions are embedded as queries (question-to-question
    matching), document chunks as passages. The weight and the BM25 terms (words, without character
    bigrams) were chosen by leave-one-out over the FAQ's own alternative questions
    (``benchmarks/knowledge.py``), not on the held-out paraphrases.
    """

    DENSE_WEIGHT = 0.7

    def __init__(
        self,
        units: Sequence[Unit],
        embedder: Embedder | None,
        cache: EmbeddingCache | None = None,
        dense_weight: float = DENSE_WEIGHT,
        vectors: np.ndarray | None = None,
    ) -> None:
        self.units = list(units)
        self.embedder = embedder
        self.dense_weight = dense_weight if embedder is not None else 0.0
        texts = [clean_query(u.text) or u.text for u in self.units]
        self._bm25 = Bm25Index(texts, bigrams=False)
        self._kinds: dict[str, np.ndarray] | None = None
        self.embedded = 0
        self._dense = None
        if embedder is not None and vectors is not None:
            if vectors.shape != (len(self.units), embedder.dim):
                raise ValueError(f"{vectors.shape} vectors for {len(self.units)} units of dim {embedder.dim}")
            self._dense = vectors.astype(np.float32, copy=False)
        elif embedder is not None:
            cache = cache or EmbeddingCache(None, embedder)
            self._dense = np.zeros((len(self.units), embedder.dim), dtype=np.float32)
            for as_queries in (True, False):
                rows = [i for i, u in enumerate(self.units) if (u.kind == "faq") == as_queries]
                vectors, computed = cache.embed([self.units[i].text for i in rows], as_queries=as_queries)
                if rows:
                    self._dense[rows] = vectors
                self.embedded += computed

    def embedded_texts(self) -> list[tuple[str, bool]]:
        """The ``(text, as_query)`` pairs of the units, for :meth:`EmbeddingCache.save`."""
        return [(u.text, u.kind == "faq") for u in self.units]

    def search(self, query: str) -> Search | None:
        """Every unit's scores for ``query`` (embedded once), or None for an empty query."""
        cleaned = clean_query(query)
        if not self.units or not cleaned:
            return None
        lexical = self._bm25.score(cleaned)
        vector = None
        if self._dense is not None and self.embedder is not None:
            vector = self.embedder.embed_queries([normalize_text(query)])[0]
            floor = self.embedder.floor
            dense = np.clip((self._dense @ vector - floor) / (1 - floor), 0.0, 1.0)
        else:
            dense = np.zeros(len(self.units))
        fused = self.dense_weight * dense + (1 - self.dense_weight) * lexical
        return Search(self, cleaned, vector, fused, lexical, dense)

    def rows(self, kind: str) -> np.ndarray:
        """Positions of the units of ``kind`` (``faq`` or ``doc``)."""
        if self._kinds is None:
            kinds = np.array([u.kind for u in self.units])
            self._kinds = {k: np.flatnonzero(kinds == k) for k in dict.fromkeys(kinds.tolist())}
        return self._kinds.get(kind, np.zeros(0, dtype=int))

    def vectors(self, kind: str) -> np.ndarray | None:
        """The dense vectors of the units of ``kind``, row for row with :meth:`rows`."""
        return None if self._dense is None else self._dense[self.rows(kind)]

    def score(self, query: str) -> list[Hit]:
        """Every unit with its fused score, best first."""
        found = self.search(query)
        return [] if found is None else [found.hit(int(i)) for i in np.argsort(-found.fused)]


@dataclass(frozen=True)
class Search:
    """The scores of every unit of an index for one query, and the query as the index saw it."""

    index: HybridIndex
    cleaned: str
    vector: np.ndarray | None
    fused: np.ndarray
    lexical: np.ndarray
    dense: np.ndarray

    def hit(self, i: int) -> Hit:
        return Hit(self.index.units[i], float(self.fused[i]), float(self.lexical[i]), float(self.dense[i]))

    def best(self, kind: str) -> Hit | None:
        """The best-scoring unit of ``kind``."""
        rows = self.index.rows(kind)
        return self.hit(int(rows[self.fused[rows].argmax()])) if len(rows) else None

    def best_per_key(self, kind: str) -> dict[str, Hit]:
        """The best-scoring unit of each key (a FAQ topic, a chunk) among the units of ``kind``."""
        found: dict[str, Hit] = {}
        rows = self.index.rows(kind)
        for i in rows[np.argsort(-self.fused[rows], kind="stable")]:
            key = self.index.units[i].key
            if key not in found:
                found[key] = self.hit(int(i))
        return found
