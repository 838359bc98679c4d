import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kefu.db.engine import session_scope
from kefu.db.models import RefundRequestRow
from kefu.db.orders import OrderRepository
from kefu.db.records import OrderStatus, RefundStatus
from kefu.db.refunds import RefundRepository


@pytest.fixture
def refunds(shop_url, clock):
    return RefundRepository(shop_url, clock)


def refund_count(url):
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(RefundRequestRow)).scalar()


def test_create_records_request_and_marks_order_refunding(refunds, shop_url, cipher, clock):
    refund = refunds.create("LT2026110104", "不想要了", Decimal("59.00"))
    assert re.fullmatch(r"RF20261124\d{6}", refund.reference)
    assert refund.status is RefundStatus.SUBMITTED
    assert (refund.order_id, refund.reason, refund.amount) == ("LT2026110104", "不想要了", Decimal("59.00"))
    assert refund.created_at == clock()
    assert OrderRepository(shop_url, cipher).get("LT2026110104").status is OrderStatus.REFUNDING
    assert refunds.latest_for_order("LT2026110104") == refund


@pytest.mark.parametrize(
    "order_id", ["LT2026110102", "LT2026110103", "LT2026110107", "LT2026110108", "LT0000000000"]
)
def test_create_refused_unless_delivered_and_nothing_is_recorded(refunds, shop_url, order_id):
    assert refunds.create(order_id, "不想要了", Decimal("1.00")) is None
    assert refund_count(shop_url) == 0


def test_never_a_second_request(refunds, shop_url):
    assert refunds.create("LT2026110104", "不想要了", Decimal("59.00")) is not None
    assert refunds.create("LT2026110104", "还是不想要", Decimal("59.00")) is None
    assert refund_count(shop_url) == 1


def test_references_are_unique(refunds):
    first = refunds.create("LT2026110104", "a", Decimal("59.00"))
    second = refunds.create("LT2026110105", "b", Decimal("459.00"))
    assert first.reference != second.reference


def test_latest_for_order_without_refund(refunds):
    assert refunds.latest_for_order("LT2026110104") is None
