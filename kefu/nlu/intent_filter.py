"""NLU component: restricts a message's intent to the ones its sender allows (``metadata.intent_filter``).

A client that knows what a message can be about (the SDK's ``intent_filter``, a page with an
"order questions" box) sends the allowed intent names in the message metadata::

    {"text": "如何查询订单?", "metadata": {"intent_filter": ["query_order", "query_logistics"]}}

The filter keeps only those intents in ``intent_ranking`` and makes the best remaining one the
message's ``intent``. Confidences are **not** renormalised: they stay the classifier's own, so the
FallbackClassifier after this component still turns a message that fits none of the allowed intents
into ``nlu_fallback`` instead of acting on it confidently. When no allowed intent is in the ranking,
the intent becomes ``None`` with confidence 0 (and so ``nlu_fallback``). A missing, empty or
malformed filter leaves the message untouched. Goes after the intent classifier and before the
FallbackClassifier in config.yml::

    - name: DIETClassifier
      ...
    - name: kefu.nlu.intent_filter.IntentFilter
    - name: FallbackClassifier
"""

from __future__ import annotations

import logging
from typing import Any, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    METADATA,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

from kefu.nlu.component import Component

logger = logging.getLogger(__name__)

METADATA_KEY = "intent_filter"


def allowed_intents(metadata: Any) -> frozenset[str] | None:
    """The intents a message's metadata allows, or None when it sets no usable filter."""
    if not isinstance(metadata, dict) or metadata.get(METADATA_KEY) is None:
        return None
    names = metadata[METADATA_KEY]
    if (
        not isinstance(names, (list, tuple))
        or not names
        or not all(isinstance(name, str) and name.strip() for name in names)
    ):
        logger.warning("Ignored a malformed intent_filter (not a list of intent names): %.120r", names)
        return None
    return frozenset(name.strip() for name in names)


def filter_intents(message: Message, allowed: frozenset[str]) -> None:
    """Keeps only ``allowed`` intents in the message's ranking and picks the best of them."""
    ranking = [
        entry
        for entry in message.get(INTENT_RANKING_KEY) or []
        if isinstance(entry, dict) and entry.get(INTENT_NAME_KEY) in allowed
    ]
    ranking.sort(key=lambda entry: float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0), reverse=True)
    if ranking:
        best = dict(ranking[0])
    else:
        current = message.get(INTENT) or {}
        best = dict(current) if current.get(INTENT_NAME_KEY) in allowed else {}
        ranking = [best] if best else []
    intent = best or {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}
    logger.debug("intent_filter %s chose %s", sorted(allowed), intent)
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class IntentFilter(Component):
    """Applies ``metadata.intent_filter`` to the intent the classifiers before it predicted."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            allowed = allowed_intents(message.get(METADATA))
            if allowed is not None:
                filter_intents(message, allowed)
        return messages
