"""Lexical retrieval: Okapi BM25 over Jieba's Chinese word segmentation (plus character bigrams).

Scores are normalised to [0, 1] by the query's BM25 score against itself, so that 1 means "matches
as well as the question itself would" and a threshold means the same thing for every question.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from typing import Sequence

import numpy as np
from scipy import sparse

_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba():
    """Jieba, with its dictionary loaded once per process and its start-up chatter silenced."""
    global _jieba_ready
    import jieba

    with _jieba_lock:
        if not _jieba_ready:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _jieba_ready = True
    return jieba


# Sentence-final particles and the possessive: colloquial questions end in them at will, and as
# query terms the FAQ rarely holds they would weigh more than the words that carry the meaning.
STOPWORDS = frozenset(["啊", "呢", "吗", "吧", "呀", "嘛", "哦", "哈", "啦", "呗", "噢", "嗯", "的", "了"])


def words(text: str) -> list[str]:
    """Jieba's segmentation of an already cleaned text (see ``retrieval.clean_query``), without
    :data:`STOPWORDS`."""
    return [w for w in _jieba().lcut(text, HMM=True) if w.strip() and w not in STOPWORDS]


def char_bigrams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)]


def analyze(text: str, bigrams: bool = True) -> list[str]:
    """The BM25 terms of a cleaned text: Jieba words, and character bigrams (marked apart so a
    two-character word and the same bigram stay distinct terms) when ``bigrams``."""
    terms = words(text)
    if bigrams:
        terms += ["\x01" + b for b in char_bigrams(text)]
    return terms


class Bm25Index:
    """BM25 (Lucene's IDF, ``k1``, ``b``) over a fixed set of texts, held as one sparse matrix of
    per-term document weights so that scoring a query is a sum of a few sparse columns."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75, bigrams: bool = True) -> None:
        self.k1, self.b, self.bigrams = k1, b, bigrams
        self._vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(len(texts), dtype=np.float64)
        for row, text in enumerate(texts):
            terms = Counter(analyze(text, bigrams))
            lengths[row] = sum(terms.values())
            for term, count in terms.items():
                rows.append(row)
                cols.append(self._vocabulary.setdefault(term, len(self._vocabulary)))
                counts.append(count)
        self.size = len(texts)
        self._avg_length = float(lengths.mean()) if self.size else 1.0
        tf = np.asarray(counts, dtype=np.float64)
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(self._vocabulary))
        self._idf = np.log1p((self.size - df + 0.5) / (df + 0.5))
        self._unseen_idf = math.log1p((self.size + 0.5) / 0.5)
        norm = k1 * (1 - b + b * lengths[np.asarray(rows, dtype=np.int64)] / max(self._avg_length, 1e-9))
        weights = self._idf[np.asarray(cols, dtype=np.int64)] * tf * (k1 + 1) / (tf + norm)
        self._weights = sparse.csc_matrix(
            (weights, (rows, cols)), shape=(self.size, len(self._vocabulary)), dtype=np.float32
        )

    def _self_score(self, terms: Counter) -> float:
        """The query's BM25 score against a document made of the query itself."""
        length = sum(terms.values())
        norm = self.k1 * (1 - self.b + self.b * length / max(self._avg_length, 1e-9))
        total = 0.0
        for term, tf in terms.items():
            column = self._vocabulary.get(term)
            idf = self._idf[column] if column is not None else self._unseen_idf
            total += idf * tf * (self.k1 + 1) / (tf + norm)
        return total

    def score(self, query: str) -> np.ndarray:
        """Normalised BM25 scores in [0, 1] of every text for a cleaned query."""
        terms = Counter(analyze(query, self.bigrams))
        columns = [self._vocabulary[t] for t in terms if t in self._vocabulary]
        if not terms or not columns or self.size == 0:
            return np.zeros(self.size, dtype=np.float64)
        raw = np.asarray(self._weights[:, columns].sum(axis=1)).ravel()
        return np.clip(raw / self._self_score(terms), 0.0, 1.0)
