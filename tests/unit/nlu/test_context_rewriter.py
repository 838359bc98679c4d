from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from kefu.nlu.context_rewriter import ContextualIntentRewriter

CONFIG = {
    "max_chars": 12,
    "rules": [{"after": ["query_order"], "keywords": ["退款"], "rewrite_to": "query_refund"}],
}


def tracker(*intents: str) -> DialogueStateTracker:
    events = [ActionExecuted("action_listen")]
    for intent in intents:
        events += [UserUttered("...", {"name": intent, "confidence": 0.9}), ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events("u1", events)


def classified(text: str, intent: str = "faq", confidence: float = 0.4) -> Message:
    ranking = [{"name": intent, "confidence": confidence}, {"name": "query_refund", "confidence": 0.3}]
    return Message(data={TEXT: text, INTENT: dict(ranking[0]), INTENT_RANKING_KEY: ranking})


def test_a_follow_up_after_an_order_question_becomes_the_rewritten_intent():
    message = classified("那退款呢")
    ContextualIntentRewriter(CONFIG).process([message], tracker("greet", "query_order"))
    assert message.get(INTENT) == {"name": "query_refund", "confidence": 0.9}
    ranking = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking] == ["query_refund", "faq"]  # no second query_refund entry
    assert message.as_dict(only_output_properties=True)[INTENT]["name"] == "query_refund"


def test_a_confident_classification_keeps_its_confidence():
    message = classified("那退款呢", confidence=0.97)
    ContextualIntentRewriter(CONFIG).process([message], tracker("query_order"))
    assert message.get(INTENT) == {"name": "query_refund", "confidence": 0.97}


def test_only_the_last_user_intent_counts():
    message = classified("那退款呢")
    ContextualIntentRewriter(CONFIG).process([message], tracker("query_order", "greet"))
    assert message.get(INTENT)["name"] == "faq"


def test_without_a_tracker_or_rules_nothing_changes():
    message = classified("那退款呢")
    ContextualIntentRewriter(CONFIG).process([message], None)
    ContextualIntentRewriter({"max_chars": 12}).process([message], tracker("query_order"))
    assert message.get(INTENT) == {"name": "faq", "confidence": 0.4}
    assert len(message.get(INTENT_RANKING_KEY)) == 2


def test_a_message_the_classifier_left_without_intent_can_still_be_rewritten():
    message = Message(data={TEXT: "退款呢"})
    ContextualIntentRewriter(CONFIG).process([message], tracker("query_order"))
    assert message.get(INTENT) == {"name": "query_refund", "confidence": 1.0}
    assert message.get(INTENT_RANKING_KEY) == [{"name": "query_refund", "confidence": 1.0}]
