"""What the order forms ask: which order, and each confirmation with the order's details."""

from __future__ import annotations

import asyncio
from typing import Callable

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.customer import logged_in_user
from actions.faq_actions import answer_message
from actions.order_actions import (
    OrderAction,
    order_details,
    refund_note,
)
from kefu.knowledge.service import KnowledgeAnswer, KnowledgeService, get_knowledge_service
from kefu.orders.policy import (
    status_name,
)
from kefu.orders.service import OrderService
from kefu.text import find_order_ids, looks_like_question


class ActionAskCancelConfirmed(OrderAction):
    """Asks to confirm a cancellation (or a paid order's cancel-and-refund), naming what follows."""

    def name(self) -> str:
        return "action_ask_cancel_form_cancel_confirmed"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        order = await self.authorised_order(tracker)
        if order is None:
            return []
        if tracker.get_slot("order_request") == "refund":
            dispatcher.utter_message(response="utter_refund_confirm_cancel", **order_details(order))
        else:
            dispatcher.utter_message(
                response="utter_ask_cancel_form_cancel_confirmed",
                refund_note=refund_note(order),
                **order_details(order),
            )
        return []


class ActionAskRefundReason(OrderAction):
    def name(self) -> str:
        return "action_ask_refund_form_refund_reason"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_ask_refund_form_refund_reason", order_id=tracker.get_slot("order_id")
        )
        return []


class ActionAskRefundConfirmed(OrderAction):
    def name(self) -> str:
        return "action_ask_refund_form_refund_confirmed"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        order = await self.authorised_order(tracker)
        if order is not None:
            dispatcher.utter_message(
                response="utter_ask_refund_form_refund_confirmed",
                refund_reason=tracker.get_slot("refund_reason"),
                **order_details(order),
            )
        return []


class ActionAskNewAddress(OrderAction):
    def name(self) -> str:
        return "action_ask_address_form_new_address"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_ask_address_form_new_address", order_id=tracker.get_slot("order_id")
        )
        return []


class ActionAskAddressConfirmed(OrderAction):
    def name(self) -> str:
        return "action_ask_address_form_address_confirmed"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_ask_address_form_address_confirmed",
            order_id=tracker.get_slot("order_id"),
            new_address=tracker.get_slot("new_address"),
        )
        return []


ORDER_INTENTS = {
    "query_order",
    "query_logistics",
    "apply_refund",
    "query_refund",
    "cancel_order",
    "change_address",
}
POLICY_ANSWER_MIN_SCORE = 0.6
MAX_ORDER_BUTTONS = 5


class ActionAskOrderId(OrderAction):
    """Asks which order. A policy question behind the request ("怎么取消订单") is answered first,
    and a logged-in customer can pick one of their recent orders."""

    def __init__(
        self,
        orders: Callable[[], OrderService] | None = None,
        knowledge: Callable[[], KnowledgeService] | None = None,
    ) -> None:
        super().__init__(orders)
        self._knowledge = knowledge or get_knowledge_service

    def name(self) -> str:
        return "action_ask_order_form_order_id"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in ORDER_INTENTS and looks_like_question(text) and not find_order_ids(text):
            best = await asyncio.to_thread(self._knowledge().best_faq, text)
            if best is not None and best[1] >= POLICY_ANSWER_MIN_SCORE:
                entry, score = best
                dispatcher.utter_message(
                    **answer_message(KnowledgeAnswer(entry.answer, score, "faq", entry.topic, entry.question))
                )
        user = logged_in_user(tracker)
        orders = await asyncio.to_thread(self._orders().orders_of, user) if user else []
        if orders:
            buttons = [
                {
                    "title": f"{o.order_id} {o.product}（{status_name(o.status)}）",
                    "payload": f'/inform{{"order_id": "{o.order_id}"}}',
                }
                for o in orders[:MAX_ORDER_BUTTONS]
            ]
            dispatcher.utter_message(response="utter_ask_order_form_order_id_choose", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_order_form_order_id")
        return []
