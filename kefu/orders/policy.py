"""The shop's order rules as pure functions: no database, no Rasa, no wording.

Each decision carries a reason code; the assistant's sentences for them live in ``domain.yml``.
Days count by calendar date in the shop's time zone: an order delivered on 11-13 (at any hour) is
"within 7 days" up to and including 11-20, and within 15 days up to and including 11-28.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum

from kefu.db.records import Order, OrderStatus

NO_REASON_RETURN_DAYS = 7
QUALITY_ISSUE_DAYS = 15

STATUS_NAMES: dict[OrderStatus, str] = {
    OrderStatus.PENDING_PAYMENT: "待付款",
    OrderStatus.PAID: "已付款（待发货）",
    OrderStatus.SHIPPED: "已发货",
    OrderStatus.DELIVERED: "已签收",
    OrderStatus.CANCELLED: "已取消",
    OrderStatus.REFUNDING: "退款中",
    OrderStatus.REFUNDED: "已退款",
}


def status_name(status: OrderStatus) -> str:
    """The status as customers are told it: ``paid`` -> ``已付款（待发货）``."""
    return STATUS_NAMES[status]


class RefundCode(str, Enum):
    CANCEL_AND_REFUND = "cancel_and_refund"  # paid: after confirmation, cancel and refund in full
    NOT_YET_DELIVERED = "not_yet_delivered"  # shipped: refuse the parcel, or return it after delivery
    NO_REASON_RETURN = "no_reason_return"  # delivered <= 7 days ago: ask the reason, confirm, record
    QUALITY_ISSUE_TO_AGENT = "quality_issue_to_agent"  # 8-15 days: only quality problems, by an agent
    RETURN_PERIOD_OVER = "return_period_over"  # more than 15 days
    DELIVERY_DATE_UNKNOWN = "delivery_date_unknown"  # delivered without a date: an agent decides
    REFUND_IN_PROGRESS = "refund_in_progress"  # refunding: report it, never a second request
    ALREADY_REFUNDED = "already_refunded"
    NOT_PAID = "not_paid"  # pending_payment: nothing to refund
    ORDER_CANCELLED = "order_cancelled"  # nothing (more) to refund


class CancelCode(str, Enum):
    UNPAID = "unpaid"  # pending_payment: cancel, nothing to refund
    PAID_FULL_REFUND = "paid_full_refund"  # paid: cancel and refund in full
    ALREADY_SHIPPED = "already_shipped"
    ALREADY_DELIVERED = "already_delivered"
    ALREADY_CANCELLED = "already_cancelled"
    REFUND_IN_PROGRESS = "refund_in_progress"
    ALREADY_REFUNDED = "already_refunded"


class AddressChangeCode(str, Enum):
    BEFORE_SHIPPING = "before_shipping"
    ALREADY_SHIPPED = "already_shipped"  # the FAQ: ask the carrier to forward it
    ALREADY_DELIVERED = "already_delivered"
    ORDER_CLOSED = "order_closed"  # cancelled, refunding or refunded


@dataclass(frozen=True)
class RefundEligibility:
    """What a refund application of this order leads to.

    ``can_apply``: the assistant records it itself (after ``needs_reason`` and ``needs_confirmation``).
    ``to_agent``: a human agent takes it (only for quality problems, under ``QUALITY_ISSUE_TO_AGENT``).
    """

    code: RefundCode
    can_apply: bool = False
    needs_reason: bool = False
    needs_confirmation: bool = False
    to_agent: bool = False
    refund_amount: Decimal | None = None
    days_since_delivery: int | None = None
    no_reason_return_until: dt.date | None = None
    quality_issue_until: dt.date | None = None


@dataclass(frozen=True)
class CancelDecision:
    code: CancelCode
    allowed: bool
    refund_amount: Decimal | None = None  # paid orders: refunded in full


@dataclass(frozen=True)
class AddressChangeDecision:
    code: AddressChangeCode
    allowed: bool


def refund_eligibility(order: Order, today: dt.date) -> RefundEligibility:
    """Decides a refund application by status and, for delivered orders, days since delivery."""
    status = order.status
    if status is OrderStatus.PAID:
        return RefundEligibility(
            RefundCode.CANCEL_AND_REFUND, can_apply=True, needs_confirmation=True, refund_amount=order.amount
        )
    if status is OrderStatus.SHIPPED:
        return RefundEligibility(RefundCode.NOT_YET_DELIVERED)
    if status is OrderStatus.REFUNDING:
        return RefundEligibility(RefundCode.REFUND_IN_PROGRESS)
    if status is OrderStatus.REFUNDED:
        return RefundEligibility(RefundCode.ALREADY_REFUNDED)
    if status is OrderStatus.PENDING_PAYMENT:
        return RefundEligibility(RefundCode.NOT_PAID)
    if status is OrderStatus.CANCELLED:
        return RefundEligibility(RefundCode.ORDER_CANCELLED)
    if order.delivered_at is None:
        return RefundEligibility(RefundCode.DELIVERY_DATE_UNKNOWN, to_agent=True)
    delivered = order.delivered_at.date()
    days = max((today - delivered).days, 0)
    period_over = RefundEligibility(
        RefundCode.RETURN_PERIOD_OVER,
        days_since_delivery=days,
        no_reason_return_until=delivered + dt.timedelta(days=NO_REASON_RETURN_DAYS),
        quality_issue_until=delivered + dt.timedelta(days=QUALITY_ISSUE_DAYS),
    )
    if days <= NO_REASON_RETURN_DAYS:
        return replace(
            period_over,
            code=RefundCode.NO_REASON_RETURN,
            can_apply=True,
            needs_reason=True,
            needs_confirmation=True,
            refund_amount=order.amount,
        )
    if days <= QUALITY_ISSUE_DAYS:
        return replace(period_over, code=RefundCode.QUALITY_ISSUE_TO_AGENT, to_agent=True)
    return period_over


_CANCEL = {
    OrderStatus.PENDING_PAYMENT: CancelCode.UNPAID,
    OrderStatus.PAID: CancelCode.PAID_FULL_REFUND,
    OrderStatus.SHIPPED: CancelCode.ALREADY_SHIPPED,
    OrderStatus.DELIVERED: CancelCode.ALREADY_DELIVERED,
    OrderStatus.CANCELLED: CancelCode.ALREADY_CANCELLED,
    OrderStatus.REFUNDING: CancelCode.REFUND_IN_PROGRESS,
    OrderStatus.REFUNDED: CancelCode.ALREADY_REFUNDED,
}

_ADDRESS_CHANGE = {
    OrderStatus.PENDING_PAYMENT: AddressChangeCode.BEFORE_SHIPPING,
    OrderStatus.PAID: AddressChangeCode.BEFORE_SHIPPING,
    OrderStatus.SHIPPED: AddressChangeCode.ALREADY_SHIPPED,
    OrderStatus.DELIVERED: AddressChangeCode.ALREADY_DELIVERED,
    OrderStatus.CANCELLED: AddressChangeCode.ORDER_CLOSED,
    OrderStatus.REFUNDING: AddressChangeCode.ORDER_CLOSED,
    OrderStatus.REFUNDED: AddressChangeCode.ORDER_CLOSED,
}


def can_cancel(order: Order) -> CancelDecision:
    """``pending_payment`` and ``paid`` orders can be cancelled (after confirmation); later ones can't."""
    code = _CANCEL[order.status]
    allowed = code in (CancelCode.UNPAID, CancelCode.PAID_FULL_REFUND)
    refund = order.amount if code is CancelCode.PAID_FULL_REFUND else None
    return CancelDecision(code, allowed, refund)


def can_change_address(order: Order) -> AddressChangeDecision:
    """The delivery address can change only before shipping (``pending_payment``, ``paid``)."""
    code = _ADDRESS_CHANGE[order.status]
    return AddressChangeDecision(code, code is AddressChangeCode.BEFORE_SHIPPING)
