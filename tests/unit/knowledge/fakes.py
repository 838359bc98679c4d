"""Fakes shared by the knowledge tests."""

from __future__ import annotations

from kefu.knowledge.embeddings import HashingEmbedder


class RecordingEmbedder(HashingEmbedder):
    """Hashing vectors, recording the texts it was asked to embed as queries and as passages."""

    def __init__(self) -> None:
        super().__init__(dim=64)
        self.queries: list[str] = []
        self.passages: list[str] = []

    @property
    def texts(self) -> list[str]:
        """Everything it embedded, queries first."""
        return self.queries + self.passages

    def embed_queries(self, texts):
        self.queries += list(texts)
        return super().embed_queries(texts)

    def embed_passages(self, texts):
        self.passages += list(texts)
        return super().embed_passages(texts)
