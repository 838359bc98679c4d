"""NLU component: rewrites a short follow-up's intent by the conversation's context.

After "LT2026110103 到哪了" (``query_order``), the follow-up "那退款呢" is about the same order's
refund: ``query_refund``, whatever the classifier made of the two words on their own. Rules are
configured in config.yml::

    - name: kefu.nlu.context_rewriter.ContextualIntentRewriter
      max_chars: 12
      rules:
        - after: [query_order, query_logistics, apply_refund, cancel_order, change_address]
          keywords: [退款, 退钱]
          rewrite_to: query_refund
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from kefu.context import ContextRule, rewrite_intent
from kefu.nlu.component import Component


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ContextualIntentRewriter(Component):
    """Applies the first matching :class:`kefu.context.ContextRule` to a message's intent."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"max_chars": 12, "rules": []}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.max_chars = int(config["max_chars"])
        self.rules = [ContextRule.from_config(rule) for rule in config.get("rules") or []]

    @classmethod
    def build(cls, config: dict, storage: ModelStorage, resource: Resource, context: ExecutionContext) -> Any:
        return cls(config)

    def process(self, messages: List[Message], tracker: DialogueStateTracker | None = None) -> List[Message]:
        previous = _previous_intent(tracker)
        for message in messages:
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            new_intent = rewrite_intent(self.rules, previous, intent, message.get(TEXT) or "", self.max_chars)
            if new_intent and new_intent != intent:
                confidence = float((message.get(INTENT) or {}).get("confidence") or 1.0)
                rewritten = {INTENT_NAME_KEY: new_intent, "confidence": max(confidence, 0.9)}
                ranking = [
                    r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != new_intent
                ]
                message.set(INTENT, rewritten, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [rewritten, *ranking], add_to_output=True)
        return messages


def _previous_intent(tracker: DialogueStateTracker | None) -> str | None:
    """The intent of the last user message before the one being parsed."""
    if tracker is None:
        return None
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered) and event.intent_name:
            return event.intent_name
    return None
