"""Answers policy and how-to questions from the shop's knowledge base."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff_actions import HandoffOffer
from kefu.knowledge.service import KnowledgeAnswer, KnowledgeService, get_knowledge_service
from kefu.settings import get_settings


def answer_message(answer: KnowledgeAnswer) -> dict[str, Any]:
    """The text and machine-readable source of a knowledge answer, as ``utter_message`` kwargs."""
    text = answer.text
    if answer.source_type == "document":
        text = f"{text}\n（以上内容摘自《{answer.source_title}》）"
    elif answer.supplement is not None:
        text = f"{text}\n补充说明：{answer.supplement.text}\n（摘自《{answer.supplement.source_title}》）"
    source = {
        "type": answer.source_type,
        "id": answer.source_id,
        "title": answer.source_title,
        "score": round(answer.score, 3),
    }
    return {"text": text, "json_message": {"source": source}}


class ActionAnswerFaq(Action):
    """Finds the answer to the customer's last message; says it is not sure below the threshold, or
    offers a human when the previous message went unanswered too."""

    def __init__(
        self, knowledge: Callable[[], KnowledgeService] | None = None, offer: HandoffOffer | None = None
    ) -> None:
        self._knowledge = knowledge or get_knowledge_service
        self._offer = offer or HandoffOffer()

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        question = tracker.latest_message.get("text") or ""
        unsure = (tracker.latest_message.get("intent") or {}).get("name") == "nlu_fallback"
        min_score = get_settings().kb_fallback_threshold if unsure else None
        # Retrieval embeds the question on the CPU: keep it off the action server's event loop.
        answer = await asyncio.to_thread(lambda: self._knowledge().answer(question, min_score))
        if answer is None:
            if not await asyncio.to_thread(self._offer.after_failure, dispatcher, tracker):
                dispatcher.utter_message(response="utter_faq_not_sure")
            return []
        dispatcher.utter_message(**answer_message(answer))
        return []
