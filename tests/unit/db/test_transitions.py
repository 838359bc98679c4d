import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from kefu.db import transitions
from kefu.db.engine import session_scope
from kefu.db.models import OrderRow, RefundRequestRow
from kefu.db.records import OrderStatus, RefundStatus

NOW = dt.datetime(2026, 11, 24, 15, 30)


@pytest.fixture
def paid_order(shop_url) -> str:
    with session_scope(shop_url) as session:
        order = (
            session.execute(select(OrderRow).where(OrderRow.status == OrderStatus.PAID.value))
            .scalars()
            .first()
        )
        return order.order_id


def status_of(url: str, order_id: str) -> str:
    with session_scope(url) as session:
        return session.get(OrderRow, order_id).status


def test_changes_an_order_in_an_allowed_status(shop_url, paid_order):
    with session_scope(shop_url) as session:
        changed = transitions.update_if_status(
            session,
            paid_order,
            [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID],
            status=OrderStatus.CANCELLED.value,
        )
    assert changed is True
    assert status_of(shop_url, paid_order) == "cancelled"


def test_leaves_an_order_in_another_status_alone(shop_url, paid_order):
    with session_scope(shop_url) as session:
        changed = transitions.update_if_status(
            session, paid_order, [OrderStatus.SHIPPED], status=OrderStatus.DELIVERED.value
        )
    assert changed is False
    assert status_of(shop_url, paid_order) == "paid"


def test_of_two_changes_from_the_same_status_only_the_first_applies(shop_url, paid_order):
    with session_scope(shop_url) as session:
        first = transitions.update_if_status(session, paid_order, [OrderStatus.PAID], status="refunding")
        second = transitions.update_if_status(session, paid_order, [OrderStatus.PAID], status="cancelled")
    assert (first, second) == (True, False)
    assert status_of(shop_url, paid_order) == "refunding"


def test_an_unknown_order_changes_nothing(shop_url):
    with session_scope(shop_url) as session:
        assert not transitions.update_if_status(session, "LT0000000000", list(OrderStatus), status="paid")


def test_records_a_refund_with_a_dated_reference(shop_url, paid_order):
    with session_scope(shop_url) as session:
        rows = [
            transitions.record_refund(
                session, paid_order, "不想要了", Decimal("12.50"), RefundStatus.SUBMITTED, NOW
            )
            for _ in range(3)
        ]
        references = [row.reference for row in rows]
    assert all(re.fullmatch(r"RF20261124\d{6}", reference) for reference in references)
    assert len(set(references)) == 3
    with session_scope(shop_url) as session:
        stored = session.execute(
            select(RefundRequestRow).where(RefundRequestRow.reference == references[0])
        ).scalar_one()
        assert (stored.order_id, stored.reason, stored.status, stored.amount, stored.created_at) == (
            paid_order,
            "不想要了",
            "submitted",
            Decimal("12.50"),
            NOW,
        )


def test_a_taken_reference_is_drawn_again(shop_url, paid_order, monkeypatch):
    with session_scope(shop_url) as session:
        draws = iter([123456, 123456, 654321])
        monkeypatch.setattr(transitions.secrets, "randbelow", lambda _: next(draws))
        first = transitions.record_refund(session, paid_order, "a", Decimal("1"), RefundStatus.SUBMITTED, NOW)
        second = transitions.record_refund(
            session, paid_order, "b", Decimal("1"), RefundStatus.SUBMITTED, NOW
        )
        assert (first.reference, second.reference) == ("RF20261124123456", "RF20261124654321")
