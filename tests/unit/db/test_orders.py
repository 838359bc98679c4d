import threading
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from kefu.db.engine import session_scope
from kefu.db.models import OrderRow
from kefu.db.orders import OrderRepository
from kefu.db.records import OrderStatus, RefundStatus
from kefu.db.refunds import RefundRepository


@pytest.fixture
def orders(shop_url, cipher, clock):
    return OrderRepository(shop_url, cipher, clock)


def status_of(url, order_id):
    with session_scope(url) as session:
        return session.execute(select(OrderRow.status).where(OrderRow.order_id == order_id)).scalar_one()


def test_get_decrypts_personal_data(orders):
    order = orders.get("LT2026110103")
    assert order.user_id == "u1002"
    assert order.status is OrderStatus.SHIPPED
    assert order.phone == "13900139002" and order.phone_last4 == "9002"
    assert order.address == "上海市浦东新区世纪大道100号"
    assert order.amount == Decimal("1299.00")
    assert (order.carrier, order.tracking_no) == ("顺丰", "SF1234567890")
    assert order.shipped_at.isoformat() == "2026-11-19T08:00:00"
    assert order.delivered_at is None


def test_get_unknown_order(orders):
    assert orders.get("LT0000000000") is None


def test_repr_leaves_out_phone_and_address(orders):
    text = repr(orders.get("LT2026110101"))
    assert "13800138001" not in text and "建国路" not in text


def test_list_for_user_newest_first(orders):
    assert [o.order_id for o in orders.list_for_user("u1001")] == ["LT2026110101", "LT2026110102"]
    assert orders.list_for_user("nobody") == []


def test_cancel_unpaid_order_records_no_refund(orders, shop_url):
    assert orders.cancel("LT2026110101") is True
    assert status_of(shop_url, "LT2026110101") == "cancelled"
    assert RefundRepository(shop_url).latest_for_order("LT2026110101") is None


def test_cancel_paid_order_records_full_refund(orders, shop_url, clock):
    assert orders.cancel("LT2026110110") is True
    assert status_of(shop_url, "LT2026110110") == "cancelled"
    refund = RefundRepository(shop_url).latest_for_order("LT2026110110")
    assert refund.status is RefundStatus.APPROVED
    assert refund.amount == Decimal("79.90")
    assert refund.created_at == clock()


@pytest.mark.parametrize(
    "order_id", ["LT2026110103", "LT2026110104", "LT2026110106", "LT2026110107", "LT2026110108"]
)
def test_cancel_refused_after_shipping_or_when_closed(orders, shop_url, order_id):
    before = status_of(shop_url, order_id)
    assert orders.cancel(order_id) is False
    assert status_of(shop_url, order_id) == before


def test_cancel_twice_succeeds_once(orders):
    assert orders.cancel("LT2026110102") is True
    assert orders.cancel("LT2026110102") is False


def test_cancel_unknown_order(orders):
    assert orders.cancel("LT0000000000") is False


def test_change_address_before_shipping(orders, shop_url):
    assert orders.change_address("LT2026110102", "北京市海淀区中关村大街1号") is True
    assert orders.get("LT2026110102").address == "北京市海淀区中关村大街1号"
    with session_scope(shop_url) as session:
        stored = session.execute(
            select(OrderRow.address_enc).where(OrderRow.order_id == "LT2026110102")
        ).scalar()
    assert "中关村" not in stored


def test_change_address_refused_after_shipping(orders):
    assert orders.change_address("LT2026110103", "北京市海淀区中关村大街1号") is False
    assert orders.get("LT2026110103").address == "上海市浦东新区世纪大道100号"


def test_state_change_is_conditional_on_the_current_row(orders, shop_url):
    """A decision made on a stale read does not go through: the UPDATE re-checks the status."""
    stale = orders.get("LT2026110102")
    with session_scope(shop_url) as session:
        session.execute(update(OrderRow).where(OrderRow.order_id == "LT2026110102").values(status="shipped"))
    assert stale.status is OrderStatus.PAID
    assert orders.cancel("LT2026110102") is False
    assert orders.change_address("LT2026110102", "新地址") is False


def test_concurrent_cancels_succeed_exactly_once(orders, shop_url):
    start = threading.Barrier(8)
    results = []

    def cancel():
        start.wait()
        results.append(orders.cancel("LT2026110110"))

    threads = [threading.Thread(target=cancel) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert RefundRepository(shop_url).latest_for_order("LT2026110110") is not None
