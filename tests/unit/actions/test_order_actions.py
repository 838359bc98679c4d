import datetime as dt
from decimal import Decimal

import pytest
from rasa_sdk.events import SlotSet

from actions.order_actions import FORM_SLOTS, ActionHandleOrderRequest
from actions.order_ask_actions import (
    ActionAskAddressConfirmed,
    ActionAskCancelConfirmed,
    ActionAskNewAddress,
    ActionAskOrderId,
    ActionAskRefundConfirmed,
    ActionAskRefundReason,
)
from actions.order_forms import ValidateOrderForm
from actions.order_submit_actions import ActionSubmitAddress, ActionSubmitCancel, ActionSubmitRefund
from kefu.db.records import OrderStatus, RefundStatus
from kefu.knowledge.service import KnowledgeService
from kefu.knowledge.sources import FaqEntry, KnowledgeSources
from kefu.settings import get_settings
from tests.unit.actions.conftest import logged_in, make_tracker, responses

pytestmark = pytest.mark.usefixtures("shop_settings")

# The demo orders (kefu/seed_data/orders.csv): order id -> owner, phone's last 4 digits.
OWNERS = {
    "LT2026110101": ("u1001", "8001"),  # pending_payment
    "LT2026110102": ("u1001", "8001"),  # paid
    "LT2026110103": ("u1002", "9002"),  # shipped, 顺丰
    "LT2026110104": ("u1002", "9002"),  # delivered 11-13: 8 days before SHOP_TODAY
    "LT2026110105": ("u1003", "7003"),  # delivered 10-28: 24 days before
    "LT2026110106": ("u1003", "7003"),  # cancelled
    "LT2026110107": ("u1004", "6004"),  # refunding
    "LT2026110108": ("u1004", "6004"),  # refunded
    "LT2026110109": ("u1005", "5005"),  # shipped, 中通
    "LT2026110110": ("u1005", "5005"),  # paid
    "LT2026110111": ("u1006", "4006"),  # delivered 11-19: 2 days before
    "LT2026110112": ("u1006", "4006"),  # shipped, 顺丰
}
CLEARED = [SlotSet(s, None) for s in FORM_SLOTS]


def owner_tracker(order_id: str, request: str | None = None, intent: str = "inform", **slots):
    """The tracker after the order form: the order's owner is logged in."""
    user, _ = OWNERS[order_id]
    return make_tracker(
        order_id,
        intent=intent,
        slots={"order_id": order_id, "order_request": request, **slots},
        metadata=logged_in(user),
    )


def verified_tracker(order_id: str, request: str | None = None, **slots):
    """The tracker after the order form: an anonymous customer gave the right digits."""
    _, digits = OWNERS[order_id]
    return make_tracker(
        digits,
        intent="inform",
        slots={
            "order_id": order_id,
            "order_request": request,
            "phone_last4": digits,
            "verified_orders": [order_id],
            **slots,
        },
    )


def next_form(events) -> str | None:
    [value] = [e["value"] for e in events if e["name"] == "order_next"]
    return value


@pytest.fixture
def handle(service, guard) -> ActionHandleOrderRequest:
    return ActionHandleOrderRequest(orders=lambda: service, guard=lambda: guard)


# --- order status


@pytest.mark.parametrize(
    ("order_id", "status_name", "product", "amount"),
    [
        ("LT2026110101", "待付款", "无线蓝牙耳机 Pro", "299.00"),
        ("LT2026110102", "已付款（待发货）", "纯棉T恤 白色 L码", "89.00"),
        ("LT2026110106", "已取消", "运动鞋 42码", "399.00"),
        ("LT2026110107", "退款中", "羽绒服 M码", "899.00"),
        ("LT2026110108", "已退款", "护手霜 套装", "120.00"),
        ("LT2026110110", "已付款（待发货）", "有机大米 5kg", "79.90"),
    ],
)
async def test_status_of_an_order_not_on_its_way(handle, dispatcher, order_id, status_name, product, amount):
    events = await handle.run(dispatcher, owner_tracker(order_id, "status"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_status"
    assert (message["order_id"], message["status_name"]) == (order_id, status_name)
    assert (message["product"], message["amount"]) == (product, amount)
    assert events == [SlotSet("order_next", None), *CLEARED]


@pytest.mark.parametrize(
    ("order_id", "status_name", "carrier", "tracking_no"),
    [
        ("LT2026110103", "已发货", "顺丰", "SF1234567890"),
        ("LT2026110104", "已签收", "中通", "ZT9876543210"),
        ("LT2026110105", "已签收", "中通", "ZT5555666677"),
        ("LT2026110109", "已发货", "中通", "ZT7777888899"),
        ("LT2026110111", "已签收", "中通", "ZT2468135790"),
        ("LT2026110112", "已发货", "顺丰", "SF0987654321"),
    ],
)
async def test_status_of_a_shipped_or_delivered_order_names_the_carrier(
    handle, dispatcher, order_id, status_name, carrier, tracking_no
):
    await handle.run(dispatcher, owner_tracker(order_id, "status"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_status_shipped"
    assert message["status_name"] == status_name
    assert (message["carrier"], message["tracking_no"]) == (carrier, tracking_no)


async def test_status_is_the_default_request(handle, dispatcher):
    await handle.run(dispatcher, owner_tracker("LT2026110103", None), {})
    assert responses(dispatcher) == ["utter_order_status_shipped"]


async def test_an_anonymous_customer_who_gave_the_digits_gets_the_status(handle, dispatcher):
    await handle.run(dispatcher, verified_tracker("LT2026110103", "status"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_status_shipped" and message["tracking_no"] == "SF1234567890"


@pytest.mark.parametrize("request_", ["status", "logistics", "refund", "refund_progress", "cancel"])
async def test_no_answer_carries_the_phone_or_the_address(service, handle, dispatcher, request_):
    for order_id in OWNERS:
        await handle.run(dispatcher, owner_tracker(order_id, request_), {})
    shown = str(dispatcher.messages)
    for order_id in OWNERS:
        order = service.lookup(order_id, OWNERS[order_id][0]).order
        assert order.phone not in shown and order.address not in shown and order.phone[3:7] not in shown


@pytest.mark.parametrize(
    "slots",
    [
        {"order_id": "LT2026110103"},  # no digits given
        {"order_id": "LT2026110103", "phone_last4": "9002"},  # digits, but not from the form's check
        {"order_id": "LT2026110103", "phone_last4": "8001", "verified_orders": ["LT2026110101"]},
        {"order_id": None},
    ],
    ids=["no-digits", "unverified", "another-order-verified", "no-order"],
)
async def test_nothing_is_shown_without_proof_of_ownership(handle, dispatcher, slots):
    events = await handle.run(dispatcher, make_tracker("查订单", intent="query_order", slots=slots), {})
    assert dispatcher.messages == []
    assert events == [SlotSet("order_next", None), *CLEARED]


async def test_a_logged_in_customer_gets_nothing_of_another_customers_order(handle, dispatcher):
    tracker = make_tracker(
        "LT2026110101",
        slots={"order_id": "LT2026110101", "order_request": "status"},
        metadata=logged_in("u1002"),
    )
    await handle.run(dispatcher, tracker, {})
    assert dispatcher.messages == []


async def test_a_forged_token_with_the_owners_id_shows_nothing(handle, dispatcher):
    tracker = make_tracker(
        "LT2026110103",
        slots={"order_id": "LT2026110103", "order_request": "status"},
        metadata=logged_in("u1002", secret="another-secret-of-at-least-32-chars!"),
    )
    await handle.run(dispatcher, tracker, {})
    assert dispatcher.messages == []


async def test_back_to_an_order_verified_before_another_one(service, handle, dispatcher, domain):
    """Verify LT2026110103 (…9002), then LT2026110101 (…8001), then ask about LT2026110103 again:
    it was verified in this conversation, so the form does not ask for digits, and it is answered."""
    form = ValidateOrderForm(orders=lambda: service)
    verified = ["LT2026110103", "LT2026110101"]
    tracker = make_tracker(
        "LT2026110103",
        intent="query_order",
        active_loop="order_form",
        slots={"order_id": "LT2026110103", "phone_last4": "8001", "verified_orders": verified},
        events=[SlotSet("order_id", "LT2026110103")],
    )
    form_events = await form.run(dispatcher, tracker, domain)
    assert form_events[-1] == SlotSet("requested_slot", None)  # no digits asked: the form is done
    slots = {**tracker.slots, **{e["name"]: e["value"] for e in form_events}, "order_request": "status"}
    await handle.run(dispatcher, make_tracker("LT2026110103", intent="query_order", slots=slots), {})
    assert responses(dispatcher) == ["utter_order_status_shipped"]


# --- logistics


async def test_logistics_of_a_shipped_order(handle, dispatcher):
    await handle.run(dispatcher, owner_tracker("LT2026110103", "logistics"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_logistics"
    assert (message["carrier"], message["tracking_no"]) == ("顺丰", "SF1234567890")
    assert message["latest"] == "11月19日 08:00已发出，正在运输途中"


async def test_logistics_of_a_delivered_order(handle, dispatcher):
    await handle.run(dispatcher, owner_tracker("LT2026110104", "logistics"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_logistics"
    assert message["latest"] == "已于11月13日 16:20签收"


@pytest.mark.parametrize(
    ("order_id", "status_name"),
    [("LT2026110101", "待付款"), ("LT2026110102", "已付款（待发货）"), ("LT2026110106", "已取消")],
)
async def test_no_logistics_before_shipping(handle, dispatcher, order_id, status_name):
    await handle.run(dispatcher, owner_tracker(order_id, "logistics"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_logistics_none" and message["status_name"] == status_name


# --- refund applications, by status


@pytest.mark.parametrize(
    ("order_id", "response"),
    [
        ("LT2026110101", "utter_refund_unpaid"),  # pending_payment
        ("LT2026110103", "utter_refund_in_transit"),  # shipped
        ("LT2026110104", "utter_refund_too_late"),  # delivered 8 days ago: quality problems to an agent
        ("LT2026110105", "utter_refund_quality_only"),  # delivered 24 days ago: every period over
        ("LT2026110106", "utter_refund_cancelled"),
        ("LT2026110107", "utter_refund_already_refunding"),
        ("LT2026110108", "utter_refund_already_refunded"),
    ],
)
async def test_a_refund_that_is_refused_says_why(handle, dispatcher, order_id, response):
    events = await handle.run(dispatcher, owner_tracker(order_id, "refund"), {})
    [message] = dispatcher.messages
    assert message["response"] == response and message["order_id"] == order_id
    assert next_form(events) is None


async def test_refund_of_a_paid_order_is_a_cancellation_to_confirm(handle, dispatcher):
    events = await handle.run(dispatcher, owner_tracker("LT2026110102", "refund"), {})
    assert dispatcher.messages == []
    assert next_form(events) == "cancel_form"


async def test_refund_of_a_recently_delivered_order_asks_reason_and_confirmation(handle, dispatcher):
    events = await handle.run(dispatcher, owner_tracker("LT2026110111", "refund"), {})
    assert dispatcher.messages == []
    assert events == [SlotSet("order_next", "refund_form"), *CLEARED]


@pytest.mark.parametrize(
    ("today", "expected"),
    [("2026-11-26", None), ("2026-11-27", "utter_refund_too_late"), ("2026-12-04", "utter_refund_too_late")],
    ids=["day-7", "day-8", "day-15"],
)
async def test_the_no_reason_return_ends_7_days_after_delivery(
    handle, dispatcher, monkeypatch, today, expected
):
    monkeypatch.setenv("SHOP_TODAY", today)
    get_settings.cache_clear()
    events = await handle.run(dispatcher, owner_tracker("LT2026110111", "refund"), {})
    assert responses(dispatcher) == ([expected] if expected else [])
    assert next_form(events) == (None if expected else "refund_form")


# --- refund progress


async def test_refund_progress_of_an_order_in_refund_without_a_request_record(handle, dispatcher):
    await handle.run(dispatcher, owner_tracker("LT2026110107", "refund_progress"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_refund_progress_order_state" and message["status_name"] == "退款中"


@pytest.mark.parametrize("order_id", ["LT2026110103", "LT2026110102", "LT2026110111"])
async def test_refund_progress_without_a_refund(handle, dispatcher, order_id):
    await handle.run(dispatcher, owner_tracker(order_id, "refund_progress"), {})
    assert responses(dispatcher) == ["utter_refund_progress_none"]


async def test_refund_progress_of_a_submitted_return(service, handle, dispatcher):
    order = service.lookup("LT2026110111", "u1006").order
    refund = service.apply_refund(order, "尺码不合适").refund
    await handle.run(dispatcher, owner_tracker("LT2026110111", "refund_progress"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_refund_progress"
    assert message["reference"] == refund.reference
    assert message["amount"] == "168.00"
    assert message["refund_status_name"].startswith("已提交")


async def test_refund_progress_of_a_cancelled_paid_order(service, handle, dispatcher):
    service.cancel(service.lookup("LT2026110102", "u1001").order)
    await handle.run(dispatcher, owner_tracker("LT2026110102", "refund_progress"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_refund_progress"
    assert message["refund_status_name"].startswith("审核通过")
    assert message["status_name"] == "已取消" and message["amount"] == "89.00"


# --- cancellation


@pytest.mark.parametrize("order_id", ["LT2026110101", "LT2026110102"])
async def test_an_order_not_shipped_yet_can_be_cancelled_after_confirmation(handle, dispatcher, order_id):
    events = await handle.run(dispatcher, owner_tracker(order_id, "cancel"), {})
    assert dispatcher.messages == []
    assert next_form(events) == "cancel_form"


@pytest.mark.parametrize(
    ("order_id", "advice"),
    [
        ("LT2026110103", "拒收"),
        ("LT2026110104", "7天内可以申请无理由退货"),
        ("LT2026110106", "之前已经取消了"),
        ("LT2026110107", "正在退款中"),
        ("LT2026110108", "已经退款完成"),
    ],
)
async def test_a_later_order_cannot_be_cancelled_and_the_customer_is_told_why(
    handle, dispatcher, order_id, advice
):
    events = await handle.run(dispatcher, owner_tracker(order_id, "cancel"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_cancel_not_allowed"
    assert advice in message["advice"]
    assert next_form(events) is None


# --- address change


@pytest.mark.parametrize("order_id", ["LT2026110101", "LT2026110102", "LT2026110110"])
async def test_the_address_of_an_order_not_shipped_yet_can_change(handle, dispatcher, order_id):
    events = await handle.run(dispatcher, owner_tracker(order_id, "change_address"), {})
    assert dispatcher.messages == []
    assert next_form(events) == "address_form"


@pytest.mark.parametrize(
    ("order_id", "status_name"),
    [
        ("LT2026110103", "已发货"),
        ("LT2026110104", "已签收"),
        ("LT2026110106", "已取消"),
        ("LT2026110107", "退款中"),
        ("LT2026110108", "已退款"),
    ],
)
async def test_the_address_of_a_shipped_or_closed_order_cannot_change(
    handle, dispatcher, order_id, status_name
):
    events = await handle.run(dispatcher, owner_tracker(order_id, "change_address"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_address_not_allowed" and message["status_name"] == status_name
    assert next_form(events) is None


# --- after three wrong answers


async def test_locked_out_customer_is_told_how_long_and_starts_over(handle, guard, dispatcher):
    for n in range(3):
        guard.failed("LT2026110103", [f"sender:{n}"])
    tracker = make_tracker(
        "1111", slots={"order_id": "LT2026110103", "order_request": "status", "phone_attempts": 3.0}
    )
    events = await handle.run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_verification_locked" and message["wait"] == "15分钟"
    assert events[:4] == [
        SlotSet("order_next", None),
        SlotSet("order_id", None),
        SlotSet("phone_last4", None),
        SlotSet("phone_attempts", 0),
    ]


async def test_clearing_the_conversation_after_a_lock_gives_no_fresh_tries(handle, guard, dispatcher):
    for n in range(3):
        guard.failed("LT2026110103", [f"sender:{n}"])
    tracker = make_tracker("1111", slots={"order_id": "LT2026110103", "phone_attempts": 3.0})
    await handle.run(dispatcher, tracker, {})
    assert not guard.check("LT2026110103", []).allowed  # the shared lock stays


# --- the form's questions


async def test_ask_to_confirm_cancelling_a_paid_order_names_the_refund(service, dispatcher):
    tracker = owner_tracker("LT2026110102", "cancel")
    await ActionAskCancelConfirmed(orders=lambda: service).run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_cancel_form_cancel_confirmed"
    assert message["refund_note"] == "订单已付款未发货，取消后 89.00 元将全额原路退回。"
    assert message["product"] == "纯棉T恤 白色 L码"


async def test_ask_to_confirm_cancelling_an_unpaid_order(service, dispatcher):
    await ActionAskCancelConfirmed(orders=lambda: service).run(
        dispatcher, owner_tracker("LT2026110101", "cancel"), {}
    )
    [message] = dispatcher.messages
    assert message["refund_note"] == "订单还没有付款，取消后不会产生任何费用。"


async def test_ask_to_confirm_the_refund_of_a_paid_order(service, dispatcher):
    await ActionAskCancelConfirmed(orders=lambda: service).run(
        dispatcher, verified_tracker("LT2026110102", "refund"), {}
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_refund_confirm_cancel" and message["amount"] == "89.00"


async def test_ask_to_confirm_nothing_without_proof_of_ownership(service, dispatcher):
    tracker = make_tracker(
        "是的", intent="affirm", slots={"order_id": "LT2026110102", "order_request": "cancel"}
    )
    assert await ActionAskCancelConfirmed(orders=lambda: service).run(dispatcher, tracker, {}) == []
    assert dispatcher.messages == []


async def test_ask_the_refund_reason(service, dispatcher):
    await ActionAskRefundReason(orders=lambda: service).run(
        dispatcher, owner_tracker("LT2026110111", "refund"), {}
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_refund_form_refund_reason"
    assert message["order_id"] == "LT2026110111"


async def test_ask_to_confirm_the_refund_repeats_reason_and_product(service, dispatcher):
    tracker = owner_tracker("LT2026110111", "refund", refund_reason="尺码不合适")
    await ActionAskRefundConfirmed(orders=lambda: service).run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_refund_form_refund_confirmed"
    assert (message["refund_reason"], message["product"]) == ("尺码不合适", "儿童绘本 10册")


async def test_ask_the_new_address(service, dispatcher):
    await ActionAskNewAddress(orders=lambda: service).run(
        dispatcher, owner_tracker("LT2026110110", "change_address"), {}
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_address_form_new_address"
    assert message["order_id"] == "LT2026110110"


async def test_ask_to_confirm_the_new_address(service, dispatcher):
    tracker = owner_tracker("LT2026110110", "change_address", new_address="上海市徐汇区漕溪北路88号")
    await ActionAskAddressConfirmed(orders=lambda: service).run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_address_form_address_confirmed"
    assert message["new_address"] == "上海市徐汇区漕溪北路88号"


# --- submitting a refund


async def test_a_confirmed_return_is_recorded_with_a_reference(service, refunds, dispatcher):
    tracker = verified_tracker("LT2026110111", "refund", refund_reason="尺码不合适", refund_confirmed=True)
    events = await ActionSubmitRefund(orders=lambda: service).run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_refund_submitted"
    assert message["reference"].startswith("RF")
    assert events == [SlotSet("order_next", None), *CLEARED]
    refund = refunds.latest_for_order("LT2026110111")
    assert refund.reference == message["reference"]
    assert (refund.reason, refund.status, refund.amount) == (
        "尺码不合适",
        RefundStatus.SUBMITTED,
        Decimal("168.00"),
    )
    assert service.lookup("LT2026110111", "u1006").order.status is OrderStatus.REFUNDING


async def test_a_second_confirmed_return_is_not_recorded_again(service, refunds, dispatcher):
    tracker = owner_tracker("LT2026110111", "refund", refund_reason="不想要了", refund_confirmed=True)
    action = ActionSubmitRefund(orders=lambda: service)
    await action.run(dispatcher, tracker, {})
    first = refunds.latest_for_order("LT2026110111")
    await action.run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_refund_submitted", "utter_refund_already_refunding"]
    assert refunds.latest_for_order("LT2026110111") == first


async def test_a_declined_return_changes_nothing(service, refunds, dispatcher):
    tracker = owner_tracker("LT2026110111", "refund", refund_reason="尺码不合适", refund_confirmed=False)
    events = await ActionSubmitRefund(orders=lambda: service).run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_refund_aborted"]
    assert events == [SlotSet("order_next", None), *CLEARED]
    assert refunds.latest_for_order("LT2026110111") is None
    assert service.lookup("LT2026110111", "u1006").order.status is OrderStatus.DELIVERED


async def test_a_return_of_an_order_that_changed_meanwhile_is_refused(service, refunds, dispatcher):
    tracker = owner_tracker("LT2026110104", "refund", refund_reason="不想要了", refund_confirmed=True)
    await ActionSubmitRefund(orders=lambda: service).run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_refund_too_late"]
    assert refunds.latest_for_order("LT2026110104") is None


async def test_no_return_without_proof_of_ownership(service, refunds, dispatcher):
    tracker = make_tracker(
        "确认",
        intent="affirm",
        slots={"order_id": "LT2026110111", "refund_reason": "不想要了", "refund_confirmed": True},
    )
    await ActionSubmitRefund(orders=lambda: service).run(dispatcher, tracker, {})
    assert dispatcher.messages == []
    assert refunds.latest_for_order("LT2026110111") is None


# --- submitting a cancellation


async def test_a_confirmed_cancellation_of_a_paid_order_refunds_it_in_full(service, refunds, dispatcher):
    tracker = verified_tracker("LT2026110102", "cancel", cancel_confirmed=True)
    events = await ActionSubmitCancel(orders=lambda: service).run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_cancel_done"
    refund = refunds.latest_for_order("LT2026110102")
    assert (refund.status, refund.amount) == (RefundStatus.APPROVED, Decimal("89.00"))
    assert message["refund_note"].startswith(f"退款单号 {refund.reference}，89.00 元将全额原路退回")
    assert refund.reference.startswith("RF")
    assert service.lookup("LT2026110102", "u1001").order.status is OrderStatus.CANCELLED
    assert events == [SlotSet("order_next", None), *CLEARED]


async def test_a_confirmed_cancellation_of_an_unpaid_order(service, refunds, dispatcher):
    tracker = owner_tracker("LT2026110101", "cancel", cancel_confirmed=True)
    await ActionSubmitCancel(orders=lambda: service).run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_cancel_done"
    assert message["refund_note"] == "订单还没有付款，不会产生任何费用。"
    assert refunds.latest_for_order("LT2026110101") is None
    assert service.lookup("LT2026110101", "u1001").order.status is OrderStatus.CANCELLED


async def test_the_refund_of_a_paid_order_confirmed_in_the_cancel_form(service, refunds, dispatcher):
    tracker = owner_tracker("LT2026110110", "refund", cancel_confirmed=True)
    await ActionSubmitCancel(orders=lambda: service).run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_cancel_done"]
    assert refunds.latest_for_order("LT2026110110").amount == Decimal("79.90")


async def test_a_declined_cancellation_changes_nothing(service, refunds, dispatcher):
    tracker = owner_tracker("LT2026110102", "cancel", cancel_confirmed=False)
    await ActionSubmitCancel(orders=lambda: service).run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_cancel_aborted"]
    assert service.lookup("LT2026110102", "u1001").order.status is OrderStatus.PAID
    assert refunds.latest_for_order("LT2026110102") is None


async def test_cancelling_twice_says_it_is_already_cancelled(service, refunds, dispatcher):
    tracker = owner_tracker("LT2026110102", "cancel", cancel_confirmed=True)
    action = ActionSubmitCancel(orders=lambda: service)
    await action.run(dispatcher, tracker, {})
    first = refunds.latest_for_order("LT2026110102")
    await action.run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_cancel_done", "utter_cancel_not_allowed"]
    assert "之前已经取消了" in dispatcher.messages[1]["advice"]
    assert refunds.latest_for_order("LT2026110102") == first


# --- submitting an address


async def test_a_confirmed_address_is_stored_and_shown_masked(service, dispatcher):
    tracker = verified_tracker(
        "LT2026110110", "change_address", new_address="上海市徐汇区漕溪北路88号", address_confirmed=True
    )
    events = await ActionSubmitAddress(orders=lambda: service).run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_address_changed"
    assert message["masked_address"] == "上海市徐汇区****"
    assert "漕溪北路" not in str(message)
    assert service.lookup("LT2026110110", "u1005").order.address == "上海市徐汇区漕溪北路88号"
    assert events == [SlotSet("order_next", None), *CLEARED]


async def test_a_declined_address_changes_nothing(service, dispatcher):
    tracker = owner_tracker(
        "LT2026110110", "change_address", new_address="上海市徐汇区漕溪北路88号", address_confirmed=False
    )
    await ActionSubmitAddress(orders=lambda: service).run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_address_aborted"]
    assert service.lookup("LT2026110110", "u1005").order.address == "杭州市西湖区文三路50号"


async def test_an_address_for_an_order_shipped_meanwhile_is_refused(service, dispatcher):
    tracker = owner_tracker(
        "LT2026110103", "change_address", new_address="上海市徐汇区漕溪北路88号", address_confirmed=True
    )
    await ActionSubmitAddress(orders=lambda: service).run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_address_not_allowed"]
    assert service.lookup("LT2026110103", "u1002").order.address == "上海市浦东新区世纪大道100号"


# --- which order


@pytest.fixture
def knowledge() -> KnowledgeService:
    """The shop's cancellation FAQ, matched lexically (no embedder)."""
    cancel = FaqEntry(
        "cancel_order",
        "怎么取消订单",
        "未付款的订单30分钟后会自动取消；已付款但还没发货的订单，可以直接在订单详情页取消，我们会全额退款。",
        alternatives=("订单不想要了怎么取消", "已付款没发货能取消吗"),
    )
    return KnowledgeService(KnowledgeSources(faq=(cancel,)), None)


@pytest.fixture
def ask_order(service, knowledge) -> ActionAskOrderId:
    return ActionAskOrderId(orders=lambda: service, knowledge=lambda: knowledge)


async def test_a_how_to_question_is_answered_before_asking_which_order(ask_order, dispatcher):
    tracker = make_tracker("怎么取消订单啊？", intent="cancel_order")
    assert await ask_order.run(dispatcher, tracker, {}) == []
    faq, ask = dispatcher.messages
    assert "30分钟后会自动取消" in faq["text"]
    assert faq["custom"]["source"]["id"] == "cancel_order"
    assert ask["response"] == "utter_ask_order_form_order_id"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("帮我取消订单", "cancel_order"),  # a request, not a question
        ("LT2026110102 怎么取消", "cancel_order"),  # names its order
        ("怎么取消订单", "faq"),  # not an order request
        ("怎么开发票呢", "query_order"),  # no policy close enough
    ],
)
async def test_no_policy_answer_otherwise(ask_order, dispatcher, text, intent):
    await ask_order.run(dispatcher, make_tracker(text, intent=intent), {})
    assert responses(dispatcher) == ["utter_ask_order_form_order_id"]


async def test_a_logged_in_customer_picks_one_of_their_orders(ask_order, dispatcher):
    await ask_order.run(
        dispatcher, make_tracker("查订单", intent="query_order", metadata=logged_in("u1001")), {}
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_order_form_order_id_choose"
    assert message["buttons"] == [
        {
            "title": "LT2026110101 无线蓝牙耳机 Pro（待付款）",
            "payload": '/inform{"order_id": "LT2026110101"}',
        },
        {
            "title": "LT2026110102 纯棉T恤 白色 L码（已付款（待发货））",
            "payload": '/inform{"order_id": "LT2026110102"}',
        },
    ]


async def test_a_how_to_question_of_a_logged_in_customer_gets_answer_and_buttons(ask_order, dispatcher):
    tracker = make_tracker("订单不想要了怎么取消", intent="cancel_order", metadata=logged_in("u1006"))
    await ask_order.run(dispatcher, tracker, {})
    faq, ask = dispatcher.messages
    assert faq["custom"]["source"]["id"] == "cancel_order"
    assert ask["response"] == "utter_ask_order_form_order_id_choose"
    assert [b["payload"] for b in ask["buttons"]] == [
        '/inform{"order_id": "LT2026110112"}',
        '/inform{"order_id": "LT2026110111"}',
    ]


@pytest.mark.parametrize(
    "metadata",
    [
        logged_in("u9999"),  # a customer without orders
        logged_in("u1001", secret="another-secret-of-at-least-32-chars!"),
        logged_in("u1001", ttl_seconds=-1),
        {},
    ],
    ids=["no-orders", "forged", "expired", "anonymous"],
)
async def test_no_buttons_without_orders_of_a_logged_in_customer(ask_order, dispatcher, metadata):
    await ask_order.run(dispatcher, make_tracker("查订单", intent="query_order", metadata=metadata), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_order_form_order_id"
    assert "buttons" not in message or not message["buttons"]


# --- database outage


OUTAGE_ACTIONS = [
    ActionHandleOrderRequest,
    ActionAskCancelConfirmed,
    ActionAskRefundConfirmed,
    ActionSubmitRefund,
    ActionSubmitCancel,
    ActionSubmitAddress,
    ActionAskOrderId,
]


@pytest.mark.parametrize("action_class", OUTAGE_ACTIONS, ids=lambda c: c.__name__)
async def test_a_database_outage_is_said_politely(broken_service, dispatcher, action_class):
    tracker = owner_tracker(
        "LT2026110102",
        "cancel",
        intent="query_order",
        refund_reason="不想要了",
        refund_confirmed=True,
        cancel_confirmed=True,
        new_address="上海市徐汇区漕溪北路88号",
        address_confirmed=True,
    )
    events = await action_class(orders=lambda: broken_service).run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_order_service_down"]
    assert events == [SlotSet("order_next", None), *CLEARED]


async def test_an_outage_after_the_checks_still_answers(service, broken_service, dispatcher):
    """The order was read, then the database went away before the change."""
    calls = iter([service, broken_service])
    tracker = owner_tracker("LT2026110102", "cancel", cancel_confirmed=True)
    await ActionSubmitCancel(orders=lambda: next(calls)).run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_order_service_down"]
    assert service.lookup("LT2026110102", "u1001").order.status is OrderStatus.PAID


def test_the_fixed_today_is_the_shops():
    assert get_settings().today() == dt.date(2026, 11, 21)
