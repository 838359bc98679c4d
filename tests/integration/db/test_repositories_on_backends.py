"""The repositories on each real backend: types, Unicode, constraints and concurrent state changes."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from kefu.db.engine import get_engine, session_scope
from kefu.db.faq import FaqChange, FaqRepository
from kefu.db.handoffs import HandoffRepository
from kefu.db.models import RefundRequestRow
from kefu.db.orders import OrderRepository
from kefu.db.records import OrderStatus, RefundStatus
from kefu.db.refunds import RefundRepository
from kefu.db.seed import read_seed_orders, seed
from kefu.knowledge.sources import FaqEntry

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 24, 15, 30, 45)


def clock():
    return NOW


def run_together(count, work):
    """Runs ``work()`` in ``count`` threads released at once; returns their results."""
    start = threading.Barrier(count)
    results = []

    def run():
        start.wait()
        results.append(work())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def all_text(url):
    """Every value of every table as text, the way someone reading the database would see it."""
    engine = get_engine(url)
    tables = ["customers", "orders", "refund_requests", "handoff_requests", "faq"]
    with engine.connect() as connection:
        return repr([connection.execute(text(f"SELECT * FROM {table}")).all() for table in tables])


def test_seed_is_idempotent_and_encrypts(shop_url, cipher):
    again = seed(shop_url, cipher=cipher)
    assert (again.customers_added, again.orders_added, again.orders_present) == (0, 0, 12)
    raw = all_text(shop_url)
    for order in read_seed_orders():
        assert order.phone not in raw and order.address not in raw


def test_orders_read_back_exactly(shop_url, cipher):
    orders = OrderRepository(shop_url, cipher, clock)
    order = orders.get("LT2026110110")
    assert order.amount == Decimal("79.90") and isinstance(order.amount, Decimal)
    assert order.created_at == dt.datetime(2026, 11, 21, 8, 15)
    assert order.product == "有机大米 5kg"
    assert order.address == "杭州市西湖区文三路50号"
    assert [o.order_id for o in orders.list_for_user("u1005")] == ["LT2026110110", "LT2026110109"]


def test_order_ids_compare_exactly(shop_url, cipher):
    assert OrderRepository(shop_url, cipher).get("lt2026110101") is None


def test_cancel_change_address_and_refund(shop_url, cipher):
    orders = OrderRepository(shop_url, cipher, clock)
    refunds = RefundRepository(shop_url, clock)
    assert orders.change_address("LT2026110101", "北京市海淀区中关村大街1号 🏠")
    assert orders.get("LT2026110101").address == "北京市海淀区中关村大街1号 🏠"
    assert orders.cancel("LT2026110101") and not orders.cancel("LT2026110101")
    assert not orders.change_address("LT2026110101", "x")

    assert orders.cancel("LT2026110102")
    paid_refund = refunds.latest_for_order("LT2026110102")
    assert (paid_refund.status, paid_refund.amount, paid_refund.created_at) == (
        RefundStatus.APPROVED,
        Decimal("89.00"),
        NOW,
    )

    refund = refunds.create("LT2026110104", "尺码不合适", Decimal("59.00"))
    assert refund.reference.startswith("RF20261124") and refund.amount == Decimal("59.00")
    assert refunds.latest_for_order("LT2026110104") == refund
    assert orders.get("LT2026110104").status is OrderStatus.REFUNDING
    assert refunds.create("LT2026110104", "again", Decimal("59.00")) is None


def test_concurrent_cancels_one_wins(shop_url, cipher):
    orders = OrderRepository(shop_url, cipher, clock)
    results = run_together(8, lambda: orders.cancel("LT2026110110"))
    assert sorted(results) == [False] * 7 + [True]
    with session_scope(shop_url) as session:
        count = session.execute(
            select(func.count()).where(RefundRequestRow.order_id == "LT2026110110")
        ).scalar()
    assert count == 1


def test_concurrent_refund_requests_one_recorded(shop_url):
    refunds = RefundRepository(shop_url, clock)
    results = run_together(8, lambda: refunds.create("LT2026110111", "不想要了", Decimal("168.00")))
    assert len([r for r in results if r is not None]) == 1
    with session_scope(shop_url) as session:
        assert session.execute(select(func.count()).select_from(RefundRequestRow)).scalar() == 1


def test_handoffs_keep_unicode_transcripts_and_one_agent_claims(migrated_url):
    handoffs = HandoffRepository(migrated_url, clock)
    transcript = [{"role": "user", "text": "我要转人工 😡 13800138001"}, {"role": "bot", "text": "稍等"}]
    created = handoffs.create("web-123", "request_human", transcript, user_id="u1001", outside_hours=True)
    assert handoffs.get(created.id).transcript == tuple(transcript)
    assert handoffs.get(created.id).outside_hours is True
    results = run_together(6, lambda: handoffs.claim(created.id, f"agent-{threading.get_ident()}"))
    assert results.count(True) == 1
    assert handoffs.list_waiting() == []
    assert handoffs.close(created.id) and not handoffs.close(created.id)


def test_faq_sync(migrated_url):
    faq = FaqRepository(migrated_url, clock)
    entry = FaqEntry(
        "refund_time", "退款多久能到账", "1-3个工作日，原路退回。", ("退款",), ("钱什么时候退回来",)
    )
    assert faq.sync([entry])[FaqChange.CREATED] == 1
    assert faq.sync([entry])[FaqChange.UNCHANGED] == 1
    assert faq.all() == [entry]


def test_constraints_hold(shop_url):
    # MariaDB reports a failed CHECK as an OperationalError, the others as an IntegrityError.
    with (
        pytest.raises(DBAPIError, match=r"ck_orders_status|CHECK constraint"),
        session_scope(shop_url) as session,
    ):
        session.execute(text("UPDATE orders SET status = 'lost' WHERE order_id = 'LT2026110101'"))
    with pytest.raises(DBAPIError, match=r"(?i)foreign key"), session_scope(shop_url) as session:
        session.execute(
            text(
                "INSERT INTO refund_requests (reference, order_id, reason, status, amount, created_at) "
                "VALUES ('RF1', 'LT0000000000', 'x', 'submitted', 1, '2026-11-24 00:00:00')"
            )
        )
