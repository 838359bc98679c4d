import datetime as dt
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal

import pytest

from kefu.db.records import Order, OrderStatus
from kefu.orders.policy import (
    AddressChangeCode,
    CancelCode,
    RefundCode,
    can_cancel,
    can_change_address,
    refund_eligibility,
    status_name,
)
from kefu.settings import PROJECT_ROOT

DELIVERED_AT = dt.datetime(2026, 11, 13, 16, 20)
ORDER = Order(
    order_id="LT2026110104",
    user_id="u1002",
    status=OrderStatus.DELIVERED,
    product="保温杯 500ml",
    amount=Decimal("59.00"),
    created_at=dt.datetime(2026, 11, 10, 20, 45),
    phone="13900139002",
    address="上海市浦东新区世纪大道100号",
    shipped_at=dt.datetime(2026, 11, 11, 9, 0),
    delivered_at=DELIVERED_AT,
)
TODAY = dt.date(2026, 11, 20)


def order(status: OrderStatus, **changes) -> Order:
    return replace(ORDER, status=status, **changes)


def test_status_names():
    assert {status.value: status_name(status) for status in OrderStatus} == {
        "pending_payment": "待付款",
        "paid": "已付款（待发货）",
        "shipped": "已发货",
        "delivered": "已签收",
        "cancelled": "已取消",
        "refunding": "退款中",
        "refunded": "已退款",
    }


def test_paid_order_is_cancelled_and_refunded_in_full_after_confirmation():
    decision = refund_eligibility(order(OrderStatus.PAID, delivered_at=None), TODAY)
    assert decision.code is RefundCode.CANCEL_AND_REFUND
    assert decision.can_apply and decision.needs_confirmation and not decision.needs_reason
    assert decision.refund_amount == Decimal("59.00")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (OrderStatus.SHIPPED, RefundCode.NOT_YET_DELIVERED),
        (OrderStatus.REFUNDING, RefundCode.REFUND_IN_PROGRESS),
        (OrderStatus.REFUNDED, RefundCode.ALREADY_REFUNDED),
        (OrderStatus.PENDING_PAYMENT, RefundCode.NOT_PAID),
        (OrderStatus.CANCELLED, RefundCode.ORDER_CANCELLED),
    ],
)
def test_statuses_without_a_refund_to_apply_for(status, code):
    decision = refund_eligibility(order(status), TODAY)
    assert decision.code is code
    assert not decision.can_apply and not decision.to_agent


@pytest.mark.parametrize(
    ("today", "code", "days"),
    [
        (dt.date(2026, 11, 13), RefundCode.NO_REASON_RETURN, 0),  # the day of delivery
        (dt.date(2026, 11, 20), RefundCode.NO_REASON_RETURN, 7),  # the 7th day: last day
        (dt.date(2026, 11, 21), RefundCode.QUALITY_ISSUE_TO_AGENT, 8),
        (dt.date(2026, 11, 28), RefundCode.QUALITY_ISSUE_TO_AGENT, 15),  # the 15th day: last day
        (dt.date(2026, 11, 29), RefundCode.RETURN_PERIOD_OVER, 16),
        (dt.date(2027, 3, 1), RefundCode.RETURN_PERIOD_OVER, 108),
    ],
)
def test_delivered_order_by_days_since_delivery(today, code, days):
    decision = refund_eligibility(ORDER, today)
    assert decision.code is code
    assert decision.days_since_delivery == days
    assert decision.no_reason_return_until == dt.date(2026, 11, 20)
    assert decision.quality_issue_until == dt.date(2026, 11, 28)


def test_no_reason_return_needs_reason_and_confirmation():
    decision = refund_eligibility(ORDER, TODAY)
    assert decision.can_apply and decision.needs_reason and decision.needs_confirmation
    assert decision.refund_amount == Decimal("59.00")
    assert not decision.to_agent


def test_quality_problem_after_seven_days_goes_to_an_agent():
    decision = refund_eligibility(ORDER, dt.date(2026, 11, 21))
    assert decision.to_agent and not decision.can_apply


def test_after_fifteen_days_nothing_is_offered():
    decision = refund_eligibility(ORDER, dt.date(2026, 11, 29))
    assert not decision.to_agent and not decision.can_apply


def test_hour_of_delivery_does_not_matter():
    late = replace(ORDER, delivered_at=dt.datetime(2026, 11, 13, 23, 59))
    early = replace(ORDER, delivered_at=dt.datetime(2026, 11, 13, 0, 1))
    assert (
        refund_eligibility(late, TODAY).code
        is refund_eligibility(early, TODAY).code
        is RefundCode.NO_REASON_RETURN
    )


def test_today_before_delivery_counts_as_day_zero():
    assert refund_eligibility(ORDER, dt.date(2026, 11, 1)).days_since_delivery == 0


def test_delivered_without_a_date_goes_to_an_agent():
    decision = refund_eligibility(replace(ORDER, delivered_at=None), TODAY)
    assert decision.code is RefundCode.DELIVERY_DATE_UNKNOWN and decision.to_agent


@pytest.mark.parametrize(
    ("status", "allowed", "code"),
    [
        (OrderStatus.PENDING_PAYMENT, True, CancelCode.UNPAID),
        (OrderStatus.PAID, True, CancelCode.PAID_FULL_REFUND),
        (OrderStatus.SHIPPED, False, CancelCode.ALREADY_SHIPPED),
        (OrderStatus.DELIVERED, False, CancelCode.ALREADY_DELIVERED),
        (OrderStatus.CANCELLED, False, CancelCode.ALREADY_CANCELLED),
        (OrderStatus.REFUNDING, False, CancelCode.REFUND_IN_PROGRESS),
        (OrderStatus.REFUNDED, False, CancelCode.ALREADY_REFUNDED),
    ],
)
def test_can_cancel(status, allowed, code):
    decision = can_cancel(order(status))
    assert (decision.allowed, decision.code) == (allowed, code)
    assert decision.refund_amount == (Decimal("59.00") if status is OrderStatus.PAID else None)


@pytest.mark.parametrize(
    ("status", "allowed", "code"),
    [
        (OrderStatus.PENDING_PAYMENT, True, AddressChangeCode.BEFORE_SHIPPING),
        (OrderStatus.PAID, True, AddressChangeCode.BEFORE_SHIPPING),
        (OrderStatus.SHIPPED, False, AddressChangeCode.ALREADY_SHIPPED),
        (OrderStatus.DELIVERED, False, AddressChangeCode.ALREADY_DELIVERED),
        (OrderStatus.CANCELLED, False, AddressChangeCode.ORDER_CLOSED),
        (OrderStatus.REFUNDING, False, AddressChangeCode.ORDER_CLOSED),
        (OrderStatus.REFUNDED, False, AddressChangeCode.ORDER_CLOSED),
    ],
)
def test_can_change_address(status, allowed, code):
    decision = can_change_address(order(status))
    assert (decision.allowed, decision.code) == (allowed, code)


def test_policy_imports_neither_sqlalchemy_nor_rasa():
    script = (
        "import sys, kefu.orders.policy; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'rasa', 'rasa_sdk')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
