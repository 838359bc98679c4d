"""The shared construction of our NLU components, and Rasa's acceptance of it for config.yml."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.recipe import Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.validation import validate
from rasa.shared.data import TrainingType
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.nlu.component import Component, MessageProcessor
from kefu.nlu.context_rewriter import ContextualIntentRewriter
from kefu.nlu.intent_filter import IntentFilter
from kefu.nlu.linear_classifier import LinearIntentClassifier
from kefu.nlu.text_normalizer import ChineseTextNormalizer

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def storage(tmp_path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def context(node: str = "node") -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name=node)


def test_create_without_build_gives_a_component_that_needs_nothing(storage) -> None:
    component = IntentFilter.create({}, storage, Resource("f"), context())
    assert isinstance(component, IntentFilter)


def test_create_passes_config_and_storage_to_build(storage) -> None:
    rewriter = ContextualIntentRewriter.create(
        {"max_chars": 7, "rules": []}, storage, Resource("r"), context()
    )
    assert rewriter.max_chars == 7
    resource = Resource("classifier")
    classifier = LinearIntentClassifier.create(
        {**LinearIntentClassifier.get_default_config(), "C": 3.0}, storage, resource, context()
    )
    assert classifier.config["C"] == 3.0
    assert classifier._resource is resource


def test_training_examples_are_processed_like_messages() -> None:
    data = TrainingData([Message({TEXT: "ＡＢＣ１２３"})])
    out = ChineseTextNormalizer().process_training_data(data)
    assert out is data
    assert data.training_examples[0].get(TEXT) == "ABC123"


def test_message_processor_without_process_says_so() -> None:
    class Incomplete(MessageProcessor, Component):
        pass

    with pytest.raises(NotImplementedError):
        Incomplete().process_training_data(TrainingData([Message({TEXT: "x"})]))


def test_rasa_accepts_the_pipeline_of_config_yml() -> None:
    """Rasa validates every node's ``create`` and run functions; a wrong signature fails here."""
    importer = TrainingDataImporter.load_from_config(str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [])
    config = importer.get_config()
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    graph = recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH, is_finetuning=False)
    validate(graph)
