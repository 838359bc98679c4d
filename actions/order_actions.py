"""Order requests once the order is identified: status, logistics, refunds, cancellation, address."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.customer import logged_in_user
from actions.order_forms import MAX_PHONE_ATTEMPTS, attempts, caller_keys
from kefu.db.records import Order, OrderStatus, RefundStatus
from kefu.orders.policy import (
    CancelCode,
    RefundCode,
    can_cancel,
    refund_eligibility,
    status_name,
)
from kefu.orders.provider import get_order_service
from kefu.orders.service import LookupCode, OrderService, ServiceUnavailable
from kefu.security.verification import (
    VerificationGuard,
    VerificationUnavailable,
    describe_wait,
    get_verification_guard,
)
from kefu.settings import get_settings

REFUND_STATUS_NAMES = {
    RefundStatus.SUBMITTED: "已提交，等待仓库收到退货后审核（1-3个工作日）",
    RefundStatus.APPROVED: "审核通过，退款处理中，款项将原路退回",
    RefundStatus.REFUNDED: "已退款，款项已原路退回（到账时间以支付渠道为准）",
    RefundStatus.REJECTED: "未通过审核，如有疑问请发送“转人工”",
}

# Why an order can't be refunded, by rule: the response that says so.
REFUND_REFUSALS = {
    RefundCode.NOT_YET_DELIVERED: "utter_refund_in_transit",
    RefundCode.QUALITY_ISSUE_TO_AGENT: "utter_refund_too_late",
    RefundCode.DELIVERY_DATE_UNKNOWN: "utter_refund_too_late",
    RefundCode.RETURN_PERIOD_OVER: "utter_refund_quality_only",
    RefundCode.REFUND_IN_PROGRESS: "utter_refund_already_refunding",
    RefundCode.ALREADY_REFUNDED: "utter_refund_already_refunded",
    RefundCode.NOT_PAID: "utter_refund_unpaid",
    RefundCode.ORDER_CANCELLED: "utter_refund_cancelled",
}

CANCEL_ADVICE = {
    CancelCode.ALREADY_SHIPPED: "已发货的订单可以在派送时拒收，或签收后7天内申请无理由退货。",
    CancelCode.ALREADY_DELIVERED: "签收后7天内可以申请无理由退货，需要的话跟我说“申请退款”。",
    CancelCode.ALREADY_CANCELLED: "这个订单之前已经取消了。",
    CancelCode.REFUND_IN_PROGRESS: "订单正在退款中，款项会原路退回。",
    CancelCode.ALREADY_REFUNDED: "订单已经退款完成。",
}

FORM_SLOTS = ("refund_reason", "refund_confirmed", "cancel_confirmed", "new_address", "address_confirmed")


def money(order: Order) -> str:
    return f"{order.amount:.2f}"


def order_details(order: Order) -> dict[str, Any]:
    """Template values every order response may use (never the phone or the full address)."""
    return {
        "order_id": order.order_id,
        "product": order.product,
        "amount": money(order),
        "status_name": status_name(order.status),
    }


class OrderAction(Action, ABC):
    """Base of the actions that work on the conversation's order, with ownership re-checked."""

    def __init__(self, orders: Callable[[], OrderService] | None = None) -> None:
        self._orders = orders or get_order_service

    @abstractmethod
    def name(self) -> str: ...

    async def authorised_order(self, tracker: Tracker) -> Order | None:
        """The conversation's order if this customer may see it now (token, or verified digits)."""
        order_id = tracker.get_slot("order_id")
        if not order_id:
            return None
        user = logged_in_user(tracker)
        if user:
            lookup = await asyncio.to_thread(self._orders().lookup, order_id, user)
            return lookup.order if lookup.code is LookupCode.FOUND else None
        # Without a token: only orders whose phone digits were checked in this conversation. The slot
        # is set by validate_order_form alone (custom mapping), never from the customer's message.
        if order_id not in (tracker.get_slot("verified_orders") or []):
            return None
        return await asyncio.to_thread(self._orders().verified_order, order_id)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            return await self.act(dispatcher, tracker)
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_order_service_down")
            return [SlotSet("order_next", None), *[SlotSet(s, None) for s in FORM_SLOTS]]

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]: ...


class ActionHandleOrderRequest(OrderAction):
    """Answers what the customer asked about the order, or hands over to the form that follows."""

    def __init__(
        self,
        orders: Callable[[], OrderService] | None = None,
        guard: Callable[[], VerificationGuard] | None = None,
    ) -> None:
        super().__init__(orders)
        self._guard = guard or get_verification_guard

    def name(self) -> str:
        return "action_handle_order_request"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        fresh = [SlotSet(s, None) for s in FORM_SLOTS]
        if attempts(tracker) >= MAX_PHONE_ATTEMPTS:
            # The lock itself is shared (kefu/security/verification.py): clearing the conversation's
            # slots below gives no fresh tries. Only how long it lasts is read here.
            guard = self._guard()
            try:
                verdict = await asyncio.to_thread(
                    guard.check, tracker.get_slot("order_id"), caller_keys(tracker)
                )
                wait = verdict.wait_seconds or guard.policy.lock_seconds
            except VerificationUnavailable:
                wait = guard.policy.lock_seconds
            dispatcher.utter_message(response="utter_verification_locked", wait=describe_wait(wait))
            return [
                SlotSet("order_next", None),
                SlotSet("order_id", None),
                SlotSet("phone_last4", None),
                SlotSet("phone_attempts", 0),
                *fresh,
            ]
        order = await self.authorised_order(tracker)
        if order is None:  # the form was ended without an order (outage handled there)
            return [SlotSet("order_next", None), *fresh]
        request = tracker.get_slot("order_request") or "status"
        handler = getattr(self, f"_{request}")
        next_form = await handler(dispatcher, order)
        return [SlotSet("order_next", next_form), *fresh]

    async def _status(self, dispatcher: CollectingDispatcher, order: Order) -> None:
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED) and order.tracking_no:
            dispatcher.utter_message(
                response="utter_order_status_shipped",
                carrier=order.carrier,
                tracking_no=order.tracking_no,
                **order_details(order),
            )
        else:
            dispatcher.utter_message(response="utter_order_status", **order_details(order))

    async def _logistics(self, dispatcher: CollectingDispatcher, order: Order) -> None:
        if not order.tracking_no:
            dispatcher.utter_message(response="utter_order_logistics_none", **order_details(order))
            return
        if order.delivered_at is not None:
            latest = f"已于{order.delivered_at:%m月%d日 %H:%M}签收"
        elif order.shipped_at is not None:
            latest = f"{order.shipped_at:%m月%d日 %H:%M}已发出，正在运输途中"
        else:
            latest = "已发货，正在运输途中"
        dispatcher.utter_message(
            response="utter_order_logistics",
            carrier=order.carrier,
            tracking_no=order.tracking_no,
            latest=latest,
            **order_details(order),
        )

    async def _refund(self, dispatcher: CollectingDispatcher, order: Order) -> str | None:
        eligibility = refund_eligibility(order, get_settings().today())
        if eligibility.code is RefundCode.CANCEL_AND_REFUND:
            return "cancel_form"
        if eligibility.code is RefundCode.NO_REASON_RETURN:
            return "refund_form"
        dispatcher.utter_message(response=REFUND_REFUSALS[eligibility.code], **order_details(order))
        return None

    async def _refund_progress(self, dispatcher: CollectingDispatcher, order: Order) -> None:
        refund = await asyncio.to_thread(self._orders().latest_refund, order)
        if refund is not None:
            dispatcher.utter_message(
                response="utter_refund_progress",
                reference=refund.reference,
                refund_status_name=REFUND_STATUS_NAMES[refund.status],
                **{**order_details(order), "amount": f"{refund.amount:.2f}"},
            )
        elif order.status in (OrderStatus.REFUNDING, OrderStatus.REFUNDED):
            dispatcher.utter_message(response="utter_refund_progress_order_state", **order_details(order))
        else:
            dispatcher.utter_message(response="utter_refund_progress_none", **order_details(order))

    async def _cancel(self, dispatcher: CollectingDispatcher, order: Order) -> str | None:
        decision = can_cancel(order)
        if decision.allowed:
            return "cancel_form"
        dispatcher.utter_message(
            response="utter_cancel_not_allowed", advice=CANCEL_ADVICE[decision.code], **order_details(order)
        )
        return None

    async def _change_address(self, dispatcher: CollectingDispatcher, order: Order) -> str | None:
        if order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID):
            return "address_form"
        dispatcher.utter_message(response="utter_address_not_allowed", **order_details(order))
        return None


def refund_note(order: Order) -> str:
    if order.status is OrderStatus.PAID:
        return f"订单已付款未发货，取消后 {money(order)} 元将全额原路退回。"
    return "订单还没有付款，取消后不会产生任何费用。"
