"""NLU component: normalises Chinese text before tokenisation (see :mod:`kefu.text`)."""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from kefu.nlu.component import Component, MessageProcessor
from kefu.text import normalize_text


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class ChineseTextNormalizer(MessageProcessor, Component):
    """Rewrites the message text: full-width to half-width, traditional to simplified.

    Goes first in the pipeline, so that tokenizers, featurizers and extractors all see one
    spelling of the same words. Length preserving, so entity offsets stay valid.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and text:
                message.set(TEXT, normalize_text(text))
        return messages
