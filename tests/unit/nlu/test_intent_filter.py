import pytest
from rasa.core.channels.channel import UserMessage
from rasa.graph_components.converters.nlu_message_converter import NLUMessageConverter
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from kefu.nlu.intent_filter import IntentFilter, allowed_intents

RANKING = [
    {"name": "faq", "confidence": 0.70},
    {"name": "query_order", "confidence": 0.20},
    {"name": "query_logistics", "confidence": 0.06},
    {"name": "greet", "confidence": 0.04},
]


def classified(metadata=None) -> Message:
    """A message as the DIETClassifier leaves it, with the channel's metadata."""
    return Message(
        data={
            TEXT: "如何查询订单?",
            "metadata": metadata,
            INTENT: dict(RANKING[0]),
            INTENT_RANKING_KEY: [dict(r) for r in RANKING],
        }
    )


def test_keeps_only_the_allowed_intents_and_picks_the_best_of_them():
    message = classified({"intent_filter": ["query_logistics", "query_order"]})
    IntentFilter().process([message])
    assert message.get(INTENT) == {"name": "query_order", "confidence": 0.20}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["query_order", "query_logistics"]


def test_confidences_are_not_renormalised():
    message = classified({"intent_filter": ["greet"]})
    IntentFilter().process([message])
    assert message.get(INTENT)["confidence"] == pytest.approx(0.04)


def test_the_result_is_part_of_the_parse_output():
    message = classified({"intent_filter": ["query_order"]})
    IntentFilter().process([message])
    output = message.as_dict(only_output_properties=True)
    assert output[INTENT]["name"] == "query_order"
    assert [r["name"] for r in output[INTENT_RANKING_KEY]] == ["query_order"]


def test_no_allowed_intent_in_the_ranking_leaves_no_intent():
    message = classified({"intent_filter": ["cancel_order"]})
    IntentFilter().process([message])
    assert message.get(INTENT) == {"name": None, "confidence": 0.0}
    assert message.get(INTENT_RANKING_KEY) == []


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        {},
        {"user_token": "x"},
        {"intent_filter": None},
        {"intent_filter": []},
        {"intent_filter": "query_order"},
        {"intent_filter": [1, 2]},
        {"intent_filter": ["query_order", ""]},
        "not a dict",
    ],
)
def test_a_missing_empty_or_malformed_filter_changes_nothing(metadata):
    message = classified(metadata)
    IntentFilter().process([message])
    assert message.get(INTENT) == RANKING[0]
    assert message.get(INTENT_RANKING_KEY) == RANKING


def test_names_are_read_without_surrounding_spaces():
    assert allowed_intents({"intent_filter": [" query_order "]}) == frozenset({"query_order"})


def test_the_metadata_of_a_user_message_reaches_the_component():
    """Rasa 3.6 turns UserMessage.metadata into the NLU Message's "metadata"."""
    user_message = UserMessage("如何查询订单?", metadata={"intent_filter": ["query_order"]})
    (message,) = NLUMessageConverter().convert_user_message([user_message])
    message.set(INTENT, dict(RANKING[0]))
    message.set(INTENT_RANKING_KEY, [dict(r) for r in RANKING])
    IntentFilter().process([message])
    assert message.get(INTENT)["name"] == "query_order"


def test_is_registered_as_an_intent_classifier_that_needs_no_training():
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe

    registered = DefaultV1Recipe._from_registry(IntentFilter.__name__)
    assert registered.clazz is IntentFilter
    assert DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER in registered.types
    assert not registered.is_trainable
