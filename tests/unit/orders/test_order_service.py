from decimal import Decimal

import pytest
from sqlalchemy.exc import OperationalError

from kefu.db.engine import dispose_engine
from kefu.db.orders import OrderRepository
from kefu.db.records import OrderStatus, RefundStatus
from kefu.orders.policy import AddressChangeCode, CancelCode, RefundCode
from kefu.orders.service import LookupCode, OrderService, ServiceUnavailable
from kefu.security.crypto import FieldCipher


def found(service, order_id, user_id="u1002"):
    lookup = service.lookup(order_id, user_id=user_id)
    assert lookup.code is LookupCode.FOUND
    return lookup.order


# --- who may see an order


def test_logged_in_owner_sees_the_order(service):
    lookup = service.lookup("LT2026110101", user_id="u1001")
    assert lookup.code is LookupCode.FOUND and lookup.order.order_id == "LT2026110101"


def test_logged_in_customer_does_not_see_someone_elses_order(service):
    lookup = service.lookup("LT2026110103", user_id="u1001")
    assert lookup.code is LookupCode.NOT_FOUND and lookup.order is None


def test_logged_in_customer_is_not_asked_for_digits(service):
    assert service.lookup("LT2026110103", user_id="u1001", phone_last4="9002").code is LookupCode.NOT_FOUND


def test_unknown_order(service):
    assert service.lookup("LT0000000000").code is LookupCode.NOT_FOUND
    assert service.lookup("LT0000000000", user_id="u1001").code is LookupCode.NOT_FOUND


def test_anonymous_caller_must_give_the_last_four_digits(service):
    assert service.lookup("LT2026110103").code is LookupCode.NEEDS_PHONE_CHECK
    assert service.lookup("LT2026110103").order is None
    assert service.lookup("LT2026110103", phone_last4="9002").code is LookupCode.FOUND
    assert service.lookup("LT2026110103", phone_last4="１２３４").code is LookupCode.PHONE_MISMATCH
    assert service.lookup("LT2026110103", phone_last4="8001").order is None


@pytest.mark.parametrize("digits", ["９００２", " 9002 ", "90 02"])
def test_digits_typed_full_width_or_spaced(service, digits):
    assert service.lookup("LT2026110103", phone_last4=digits).code is LookupCode.FOUND


@pytest.mark.parametrize("digits", ["", "900", "90021", "abcd", "13900139002"])
def test_malformed_digits_are_not_a_wrong_answer(service, digits):
    assert service.lookup("LT2026110103", phone_last4=digits).code is LookupCode.PHONE_FORMAT_INVALID
    # Checked before the order is looked up: an unknown order answers alike (no existence oracle).
    assert service.lookup("LT2099000000", phone_last4=digits).code is LookupCode.PHONE_FORMAT_INVALID


def test_orders_of_a_customer(service):
    assert [o.order_id for o in service.orders_of("u1003")] == ["LT2026110106", "LT2026110105"]


# --- refunds


def test_recently_delivered_order_returned_with_reason(service):
    order = found(service, "LT2026110104")
    outcome = service.apply_refund(order, " 不想要了 ")
    assert outcome.done and outcome.code is RefundCode.NO_REASON_RETURN
    assert outcome.refund.reason == "不想要了" and outcome.refund.status is RefundStatus.SUBMITTED
    assert outcome.refund.amount == Decimal("59.00")
    assert found(service, "LT2026110104").status is OrderStatus.REFUNDING
    assert service.latest_refund(order) == outcome.refund


def test_no_reason_return_without_reason_is_a_programming_error(service):
    with pytest.raises(ValueError, match="reason"):
        service.apply_refund(found(service, "LT2026110104"), "  ")


def test_second_application_reports_the_refund_in_progress(service):
    order = found(service, "LT2026110104")
    assert service.apply_refund(order, "不想要了").done
    again = service.apply_refund(order, "不想要了")  # the same, stale order object
    assert not again.done and again.code is RefundCode.REFUND_IN_PROGRESS


def test_paid_order_refund_cancels_it(service):
    order = found(service, "LT2026110110", "u1005")
    outcome = service.apply_refund(order)
    assert outcome.done and outcome.code is RefundCode.CANCEL_AND_REFUND
    assert outcome.refund.status is RefundStatus.APPROVED and outcome.refund.amount == Decimal("79.90")
    assert found(service, "LT2026110110", "u1005").status is OrderStatus.CANCELLED


@pytest.mark.parametrize(
    ("order_id", "user_id", "code"),
    [
        ("LT2026110101", "u1001", RefundCode.NOT_PAID),
        ("LT2026110103", "u1002", RefundCode.NOT_YET_DELIVERED),
        ("LT2026110105", "u1003", RefundCode.RETURN_PERIOD_OVER),
        ("LT2026110106", "u1003", RefundCode.ORDER_CANCELLED),
        ("LT2026110107", "u1004", RefundCode.REFUND_IN_PROGRESS),
        ("LT2026110108", "u1004", RefundCode.ALREADY_REFUNDED),
    ],
)
def test_refund_not_applied(service, order_id, user_id, code):
    outcome = service.apply_refund(found(service, order_id, user_id), "不想要了")
    assert (outcome.done, outcome.code, outcome.refund) == (False, code, None)


def test_refund_decided_on_the_current_state_not_the_callers_copy(service, refunds):
    stale = found(service, "LT2026110104")
    assert refunds.create("LT2026110104", "尺码不合适", Decimal("59.00")) is not None
    assert service.apply_refund(stale, "不想要了").code is RefundCode.REFUND_IN_PROGRESS


# --- cancel and address


def test_cancel_paid_order_reports_its_refund(service):
    outcome = service.cancel(found(service, "LT2026110102", "u1001"))
    assert outcome.done and outcome.code is CancelCode.PAID_FULL_REFUND
    assert outcome.refund.amount == Decimal("89.00")


def test_cancel_unpaid_order(service):
    outcome = service.cancel(found(service, "LT2026110101", "u1001"))
    assert (outcome.done, outcome.code, outcome.refund) == (True, CancelCode.UNPAID, None)


def test_cancel_twice(service):
    order = found(service, "LT2026110101", "u1001")
    assert service.cancel(order).done
    second = service.cancel(order)
    assert (second.done, second.code) == (False, CancelCode.ALREADY_CANCELLED)


def test_cancel_shipped_order_says_why(service):
    outcome = service.cancel(found(service, "LT2026110103"))
    assert (outcome.done, outcome.code) == (False, CancelCode.ALREADY_SHIPPED)


def test_change_address(service):
    order = found(service, "LT2026110101", "u1001")
    outcome = service.change_address(order, " 北京市海淀区中关村大街1号 ")
    assert (outcome.done, outcome.code) == (True, AddressChangeCode.BEFORE_SHIPPING)
    assert found(service, "LT2026110101", "u1001").address == "北京市海淀区中关村大街1号"


def test_change_address_after_shipping(service):
    outcome = service.change_address(found(service, "LT2026110103"), "北京市海淀区中关村大街1号")
    assert (outcome.done, outcome.code) == (False, AddressChangeCode.ALREADY_SHIPPED)


@pytest.mark.parametrize("address", ["", "   ", "长" * 201])
def test_change_address_rejects_empty_or_overlong(service, address):
    with pytest.raises(ValueError):
        service.change_address(found(service, "LT2026110101", "u1001"), address)


# --- failures


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://postgres@127.0.0.1:1/kefu",  # nothing listens on port 1
        "sqlite:///{tmp_path}/never-migrated.db",
    ],
)
def test_database_failure_is_service_unavailable(tmp_path, url):
    url = url.format(tmp_path=tmp_path)
    service = OrderService(OrderRepository(url, FieldCipher.from_spec("t1:" + "A" * 43 + "=")))
    try:
        with pytest.raises(ServiceUnavailable) as error:
            service.lookup("LT2026110101")
        assert isinstance(error.value.__cause__, OperationalError)
    finally:
        dispose_engine(url)


def test_wrong_encryption_key_is_service_unavailable(shop_url):
    other_key = FieldCipher.from_spec("other:" + "B" * 43 + "=")
    service = OrderService(OrderRepository(shop_url, other_key))
    with pytest.raises(ServiceUnavailable):
        service.lookup("LT2026110101", user_id="u1001")
