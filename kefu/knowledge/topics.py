"""Which FAQ topic a question asks about: a linear classifier trained on the FAQ's own wordings.

Retrieval compares a question with one wording at a time; the classifier learns from all of a
topic's wordings together which characters and meanings set it apart from the other topics. Its
features are the intent recipe's (config.yml): character 1-3-gram TF-IDF of the cleaned question
beside its sentence vector, scaled by ``DENSE_WEIGHT``, under a logistic regression. The weight,
``C`` and how its probabilities are added to the retrieval scores (``KnowledgeService``) were
chosen by 5-fold cross-validation over the FAQ's alternative questions (``benchmarks/knowledge.py``),
not on the held-out paraphrases.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import sparse


class TopicClassifier:
    """Class probabilities over the FAQ topics for a cleaned question and its sentence vector."""

    C = 10.0
    DENSE_WEIGHT = 5.0

    def __init__(
        self,
        texts: Sequence[str],
        topics: Sequence[str],
        vectors: np.ndarray | None,
        c: float = C,
        dense_weight: float = DENSE_WEIGHT,
    ) -> None:
        """``texts``: cleaned questions (``retrieval.clean_query``); ``vectors``: their query vectors,
        row for row, or None to classify on characters alone."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        if len(set(topics)) < 2:
            raise ValueError("a topic classifier needs at least two topics")
        self.dense_weight = dense_weight
        self._chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        self._dense = vectors is not None
        features = self._features(self._chars.fit_transform(texts), vectors)
        self._model = LogisticRegression(C=c, solver="liblinear").fit(features, list(topics))
        self.topics: list[str] = [str(t) for t in self._model.classes_]

    def _features(self, chars: sparse.spmatrix, vectors: np.ndarray | None) -> sparse.csr_matrix:
        if not self._dense or vectors is None:
            return sparse.csr_matrix(chars)
        return sparse.hstack([chars, sparse.csr_matrix(vectors * self.dense_weight)]).tocsr()

    def probabilities(self, text: str, vector: np.ndarray | None) -> np.ndarray:
        """P(topic) for one cleaned question, aligned with :attr:`topics`."""
        if self._dense and vector is None:
            raise ValueError("this classifier was trained with sentence vectors; pass the question's")
        row = vector.reshape(1, -1) if vector is not None else None
        return self._model.predict_proba(self._features(self._chars.transform([text]), row))[0]
