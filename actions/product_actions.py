"""Pre-sales questions about the shop's products, answered from the catalog."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.customer import logged_in_user
from kefu.catalog.provider import get_catalog_service
from kefu.catalog.service import CatalogService, ProductAnswer
from kefu.orders.provider import get_order_service
from kefu.orders.service import OrderService

logger = logging.getLogger(__name__)

# The responses this action utters (the catalog service chooses one; domain.yml has the wording).
RESPONSES = (
    "utter_product_carrier",
    "utter_product_choose",
    "utter_product_compare",
    "utter_product_fact",
    "utter_product_no_info",
    "utter_product_no_info_near",
    "utter_product_no_warranty",
    "utter_product_presale",
    "utter_product_price",
    "utter_product_recommend",
    "utter_product_recommend_none",
    "utter_product_returns",
    "utter_product_service_down",
    "utter_product_ships",
    "utter_product_size",
    "utter_product_size_height",
    "utter_product_sold_out",
    "utter_product_stock",
    "utter_product_stock_option",
    "utter_product_stock_option_out",
    "utter_product_summary",
    "utter_product_unknown",
    "utter_product_warranty",
    "utter_product_which",
)


def product_message(answer: ProductAnswer) -> dict[str, Any]:
    """``utter_message`` kwargs: the response, its values, buttons and the answer's source."""
    message: dict[str, Any] = {"response": answer.response, **answer.values}
    if answer.buttons:
        message["buttons"] = list(answer.buttons)
    if answer.source is not None:
        message["json_message"] = {"source": answer.source}
    return message


class ActionAnswerProduct(Action):
    """Answers a product question; remembers the product (``product_sku``) for follow-ups."""

    def __init__(
        self,
        catalog: Callable[[], CatalogService] | None = None,
        orders: Callable[[], OrderService] | None = None,
    ) -> None:
        self._catalog = catalog or get_catalog_service
        self._orders = orders or get_order_service

    def name(self) -> str:
        return "action_answer_product"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        from_button = text.startswith("/")
        current = tracker.get_slot("product_sku")
        previous = tracker.get_slot("product_question")
        user = logged_in_user(tracker)

        def ordered() -> list[str]:
            return [order.product for order in self._orders().orders_of(user)] if user else []

        def answer() -> ProductAnswer:
            # A button names the product: the question is the one asked before the choice.
            if from_button:
                return self._catalog().answer(previous or "", intent, chosen=current)
            return self._catalog().answer(text, intent, current, previous, ordered)

        try:
            result = await asyncio.to_thread(answer)
        except Exception:  # the database is down: say so like the order service does
            logger.exception("catalog lookup failed")
            dispatcher.utter_message(response="utter_product_service_down")
            return []
        dispatcher.utter_message(**product_message(result))
        events: list[EventType] = [SlotSet("product_sku", result.sku or current)]
        if not from_button:
            events.append(SlotSet("product_question", text))
        return events
