"""The order forms' last step: a confirmed refund, cancellation or new address is submitted."""

from __future__ import annotations

import asyncio
from abc import abstractmethod

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.order_actions import (
    CANCEL_ADVICE,
    FORM_SLOTS,
    REFUND_REFUSALS,
    OrderAction,
    money,
    order_details,
)
from kefu.db.records import Order
from kefu.orders.policy import (
    AddressChangeCode,
)
from kefu.security.masking import mask_address


class ConfirmedSubmit(OrderAction):
    """Base of the submit actions: nothing happens unless the form's confirmation slot says yes.

    Whatever the outcome, the form's slots are cleared and the conversation leaves the order flow.
    """

    confirm_slot: str
    aborted_response: str

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        done = [SlotSet("order_next", None), *[SlotSet(s, None) for s in FORM_SLOTS]]
        order = await self.authorised_order(tracker)
        if order is None:
            return done
        if not tracker.get_slot(self.confirm_slot):
            dispatcher.utter_message(response=self.aborted_response, **order_details(order))
            return done
        await self.submit(dispatcher, tracker, order)
        return done

    @abstractmethod
    async def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> None: ...


class ActionSubmitRefund(ConfirmedSubmit):
    """Records a confirmed no-reason return and gives its reference."""

    confirm_slot = "refund_confirmed"
    aborted_response = "utter_refund_aborted"

    def name(self) -> str:
        return "action_submit_refund"

    async def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> None:
        outcome = await asyncio.to_thread(
            self._orders().apply_refund, order, tracker.get_slot("refund_reason") or ""
        )
        if outcome.done and outcome.refund is not None:
            dispatcher.utter_message(
                response="utter_refund_submitted", reference=outcome.refund.reference, **order_details(order)
            )
        else:
            dispatcher.utter_message(
                response=REFUND_REFUSALS.get(outcome.code, "utter_refund_already_refunding"),
                **order_details(order),
            )


class ActionSubmitCancel(ConfirmedSubmit):
    """Cancels a confirmed order; a paid one is refunded in full."""

    confirm_slot = "cancel_confirmed"
    aborted_response = "utter_cancel_aborted"

    def name(self) -> str:
        return "action_submit_cancel"

    async def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> None:
        outcome = await asyncio.to_thread(self._orders().cancel, order)
        if outcome.done:
            if outcome.refund is not None:
                note = (
                    f"退款单号 {outcome.refund.reference}，{money(order)} 元将全额原路退回（一般1-7天到账）。"
                )
            else:
                note = "订单还没有付款，不会产生任何费用。"
            dispatcher.utter_message(response="utter_cancel_done", refund_note=note, **order_details(order))
        else:
            dispatcher.utter_message(
                response="utter_cancel_not_allowed",
                advice=CANCEL_ADVICE.get(outcome.code, ""),
                **order_details(order),
            )


class ActionSubmitAddress(ConfirmedSubmit):
    """Stores a confirmed new delivery address."""

    confirm_slot = "address_confirmed"
    aborted_response = "utter_address_aborted"

    def name(self) -> str:
        return "action_submit_address"

    async def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> None:
        address = tracker.get_slot("new_address") or ""
        outcome = await asyncio.to_thread(self._orders().change_address, order, address)
        if outcome.done:
            dispatcher.utter_message(
                response="utter_address_changed", masked_address=mask_address(address), **order_details(order)
            )
        elif outcome.code is not AddressChangeCode.BEFORE_SHIPPING:
            dispatcher.utter_message(response="utter_address_not_allowed", **order_details(order))
