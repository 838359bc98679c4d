"""The one way our NLU components are built and run over training data.

Rasa calls ``create(config, model_storage, resource, execution_context)`` on every graph component;
ours are built from their config alone (the classifier also keeps its storage), so ``create`` is
written once here and a component overrides ``build`` only when it needs more than ``cls()``.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


class Component(GraphComponent):
    """A graph component of the assistant's NLU pipeline (config.yml)."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls.build(config, model_storage, resource, execution_context)

    @classmethod
    def build(cls, config: dict, storage: ModelStorage, resource: Resource, context: ExecutionContext) -> Any:
        """The component for this ``config``; by default one that needs nothing."""
        return cls()


class MessageProcessor:
    """A component that treats training examples as it treats incoming messages."""

    def process(self, messages: List[Message]) -> List[Message]:
        raise NotImplementedError

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
