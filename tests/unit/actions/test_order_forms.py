import pytest
from rasa_sdk.events import SlotSet

from actions.order_forms import (
    MAX_PHONE_ATTEMPTS,
    ValidateAddressForm,
    ValidateOrderForm,
    ValidateRefundForm,
    looks_like_address,
)
from kefu.db.verification import SqlAttemptStore
from kefu.security.verification import CLIENT_IP_KEY, VerificationGuard, client_keys
from tests.unit.actions.conftest import logged_in, make_tracker, responses

pytestmark = pytest.mark.usefixtures("shop_settings")

SHIPPED = "LT2026110103"  # u1002, phone 13900139002
U1001_ORDER = "LT2026110101"  # u1001, phone 13800138001
UNKNOWN = "LT2099000000"


@pytest.fixture
def form(service, guard) -> ValidateOrderForm:
    return ValidateOrderForm(orders=lambda: service, guard=lambda: guard)


def fail(guard, times: int, order_id: str = SHIPPED, sender: str = "someone-else") -> None:
    """``times`` wrong answers for ``order_id``, given in another conversation."""
    for _ in range(times):
        guard.failed(order_id, client_keys(sender, None))


def order_form_tracker(text: str = "", **kwargs):
    return make_tracker(text, intent="inform", active_loop="order_form", **kwargs)


# --- which slots the order form needs


async def test_anonymous_customer_needs_the_order_and_the_phone_digits(form, dispatcher, domain):
    slots = await form.required_slots(["order_id", "phone_last4"], dispatcher, order_form_tracker(), domain)
    assert slots == ["order_id", "phone_last4"]


async def test_logged_in_customer_needs_only_the_order(form, dispatcher, domain):
    tracker = order_form_tracker(metadata=logged_in("u1002"))
    assert await form.required_slots(["order_id", "phone_last4"], dispatcher, tracker, domain) == ["order_id"]


async def test_an_order_verified_earlier_in_the_conversation_needs_no_digits(form, dispatcher, domain):
    tracker = order_form_tracker(slots={"order_id": SHIPPED, "verified_orders": [SHIPPED]})
    assert await form.required_slots(["order_id", "phone_last4"], dispatcher, tracker, domain) == ["order_id"]


async def test_another_verified_order_does_not_excuse_this_one(form, dispatcher, domain):
    tracker = order_form_tracker(slots={"order_id": SHIPPED, "verified_orders": [U1001_ORDER]})
    slots = await form.required_slots(["order_id", "phone_last4"], dispatcher, tracker, domain)
    assert slots == ["order_id", "phone_last4"]


@pytest.mark.parametrize("metadata", [{}, logged_in("u1002")], ids=["anonymous", "logged-in"])
async def test_after_three_wrong_answers_the_form_needs_nothing_more(form, dispatcher, domain, metadata):
    tracker = order_form_tracker(slots={"phone_attempts": MAX_PHONE_ATTEMPTS}, metadata=metadata)
    assert await form.required_slots(["order_id", "phone_last4"], dispatcher, tracker, domain) == []


@pytest.mark.parametrize(
    "metadata",
    [
        logged_in("u1002", secret="another-secret-of-at-least-32-chars!"),
        logged_in("u1002", ttl_seconds=-60),
        {"user_token": "not-a-jwt"},
    ],
    ids=["forged", "expired", "garbage"],
)
async def test_an_invalid_token_is_not_logged_in(form, dispatcher, domain, metadata):
    tracker = order_form_tracker(metadata=metadata)
    slots = await form.required_slots(["order_id", "phone_last4"], dispatcher, tracker, domain)
    assert slots == ["order_id", "phone_last4"]


# --- the order number


@pytest.mark.parametrize(
    "typed",
    [
        "LT2026110103",
        "lt2026110103",
        "LT 2026 1101 03",
        "LT-2026-1101-03",
        "ＬＴ２０２６１１０１０３",
        "订单号是lt2026110103呀",
    ],
)
async def test_the_order_number_however_typed(form, dispatcher, domain, typed):
    result = await form.validate_order_id(typed, dispatcher, order_form_tracker(typed), domain)
    assert result == {"order_id": SHIPPED, "phone_last4": None}
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["你好", "2026110103", "LT20261101", "XLT2026110103", ""])
async def test_something_that_is_not_an_order_number(form, dispatcher, domain, typed):
    result = await form.validate_order_id(typed, dispatcher, order_form_tracker(typed), domain)
    assert result == {"order_id": None}
    assert responses(dispatcher) == ["utter_order_id_invalid"]


async def test_an_unknown_order_is_asked_for_the_digits_like_a_known_one(form, dispatcher, domain):
    """Before verification an anonymous customer can't tell an unknown order from a real one."""
    for order_id in (UNKNOWN, SHIPPED):
        result = await form.validate_order_id(order_id, dispatcher, order_form_tracker(order_id), domain)
        assert result == {"order_id": order_id, "phone_last4": None}
    assert dispatcher.messages == []


async def test_a_locked_client_is_not_asked_for_digits(form, guard, dispatcher, domain):
    for n in range(10):  # the per-client cap, across orders
        guard.failed(f"LT20990101{n:02d}", client_keys("other", "203.0.113.9"))
    tracker = order_form_tracker(SHIPPED, metadata={CLIENT_IP_KEY: "203.0.113.9"})
    result = await form.validate_order_id(SHIPPED, dispatcher, tracker, domain)
    assert result == {"order_id": SHIPPED, "phone_last4": None, "phone_attempts": MAX_PHONE_ATTEMPTS}


async def test_a_logged_in_customer_does_not_find_another_customers_order(form, dispatcher, domain):
    tracker = order_form_tracker(U1001_ORDER, metadata=logged_in("u1002"))
    result = await form.validate_order_id(U1001_ORDER, dispatcher, tracker, domain)
    assert result == {"order_id": None}
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_not_found_for_customer"
    assert message["order_id"] == U1001_ORDER
    assert "无线蓝牙耳机" not in str(message)


async def test_a_logged_in_customer_finds_their_own_order(form, dispatcher, domain):
    tracker = order_form_tracker(SHIPPED, metadata=logged_in("u1002"))
    result = await form.validate_order_id(SHIPPED, dispatcher, tracker, domain)
    assert result["order_id"] == SHIPPED
    assert dispatcher.messages == []


async def test_an_order_verified_earlier_keeps_its_digits(form, dispatcher, domain):
    tracker = order_form_tracker(SHIPPED, slots={"verified_orders": [SHIPPED], "phone_last4": "9002"})
    assert await form.validate_order_id(SHIPPED, dispatcher, tracker, domain) == {"order_id": SHIPPED}


# --- the last 4 digits of the phone number


def digits_tracker(text: str, attempts: int = 0, **slots):
    return order_form_tracker(
        text,
        slots={"order_id": SHIPPED, "requested_slot": "phone_last4", "phone_attempts": attempts, **slots},
    )


@pytest.mark.parametrize("typed", ["9002", "尾号9002", "手机后四位是 9002", "９００２", "13900139002"])
async def test_the_right_digits_verify_the_order(form, dispatcher, domain, typed):
    result = await form.validate_phone_last4(typed, dispatcher, digits_tracker(typed, attempts=1), domain)
    assert result["verified_orders"] == [SHIPPED]
    assert result["phone_attempts"] == 0
    assert result["phone_last4"] in ("9002", "９００２")
    assert dispatcher.messages == []


async def test_verifying_a_second_order_keeps_the_first(form, dispatcher, domain):
    tracker = digits_tracker("9002", verified_orders=[U1001_ORDER])
    result = await form.validate_phone_last4("9002", dispatcher, tracker, domain)
    assert result["verified_orders"] == [U1001_ORDER, SHIPPED]


@pytest.mark.parametrize(("before", "remaining"), [(0, 2), (1, 1)])
async def test_wrong_digits_count_and_say_how_many_tries_are_left(
    form, guard, dispatcher, domain, before, remaining
):
    fail(guard, before)  # in another conversation: the count is the order's, not the conversation's
    result = await form.validate_phone_last4("8001", dispatcher, digits_tracker("8001"), domain)
    assert result == {"phone_last4": None, "phone_attempts": before + 1}
    [message] = dispatcher.messages
    assert message["response"] == "utter_phone_mismatch" and message["remaining"] == remaining


async def test_the_third_wrong_answer_is_counted_without_asking_again(form, guard, dispatcher, domain):
    fail(guard, 2)
    result = await form.validate_phone_last4("1234", dispatcher, digits_tracker("1234"), domain)
    assert result == {"phone_last4": None, "phone_attempts": MAX_PHONE_ATTEMPTS}
    assert dispatcher.messages == []
    assert not guard.check(SHIPPED, []).allowed


async def test_a_locked_order_does_not_even_compare_the_right_digits(form, guard, dispatcher, domain):
    """A new conversation (fresh slots) after three wrong answers elsewhere: locked, nothing shown."""
    fail(guard, 3)
    result = await form.validate_phone_last4("9002", dispatcher, digits_tracker("9002"), domain)
    assert result == {"phone_last4": None, "phone_attempts": MAX_PHONE_ATTEMPTS}
    assert dispatcher.messages == []


async def test_wrong_digits_for_an_unknown_order_are_answered_and_counted_alike(
    form, guard, dispatcher, domain
):
    tracker = order_form_tracker("8001", slots={"order_id": UNKNOWN, "requested_slot": "phone_last4"})
    result = await form.validate_phone_last4("8001", dispatcher, tracker, domain)
    assert result == {"phone_last4": None, "phone_attempts": 1}
    [message] = dispatcher.messages
    assert message["response"] == "utter_phone_mismatch" and message["remaining"] == 2
    assert guard.check(UNKNOWN, []).remaining == 2


async def test_the_right_digits_forget_the_orders_earlier_wrong_answers(form, guard, dispatcher, domain):
    fail(guard, 2)
    await form.validate_phone_last4("9002", dispatcher, digits_tracker("9002"), domain)
    assert guard.check(SHIPPED, []).remaining == 3


async def test_wrong_answers_count_against_the_customers_address(form, guard, dispatcher, domain):
    tracker = order_form_tracker(
        "8001",
        slots={"order_id": SHIPPED, "requested_slot": "phone_last4"},
        metadata={CLIENT_IP_KEY: "203.0.113.9"},
    )
    await form.validate_phone_last4("8001", dispatcher, tracker, domain)
    assert guard.check(None, client_keys("another-sender", "203.0.113.9")).remaining == 9


@pytest.mark.parametrize("typed", ["不知道", "123", "手机号忘了", ""])
async def test_garbage_is_not_a_wrong_answer(form, dispatcher, domain, typed):
    result = await form.validate_phone_last4(typed, dispatcher, digits_tracker(typed, 1), domain)
    assert result == {"phone_last4": None}
    assert responses(dispatcher) == ["utter_phone_invalid"]


async def test_digits_without_an_order_are_ignored(form, dispatcher, domain):
    tracker = order_form_tracker("9002", slots={"requested_slot": "phone_last4"})
    assert await form.validate_phone_last4("9002", dispatcher, tracker, domain) == {"phone_last4": None}
    assert dispatcher.messages == []


# --- the whole validation step, as the action server runs it


async def test_run_anonymous_order_number_leaves_the_digits_to_ask(form, dispatcher, domain):
    tracker = order_form_tracker(
        SHIPPED, slots={"requested_slot": "order_id"}, events=[SlotSet("order_id", SHIPPED)]
    )
    events = await form.run(dispatcher, tracker, domain)
    assert SlotSet("order_id", SHIPPED) in events
    assert SlotSet("phone_last4", None) in events
    assert SlotSet("requested_slot", None) not in events  # Rasa asks for phone_last4 next
    assert dispatcher.messages == []


async def test_run_logged_in_order_number_completes_the_form(form, dispatcher, domain):
    tracker = order_form_tracker(
        SHIPPED,
        slots={"requested_slot": "order_id"},
        metadata=logged_in("u1002"),
        events=[SlotSet("order_id", SHIPPED)],
    )
    events = await form.run(dispatcher, tracker, domain)
    assert SlotSet("order_id", SHIPPED) in events
    assert events[-1] == SlotSet("requested_slot", None)


async def test_run_right_digits_complete_the_form(form, dispatcher, domain):
    tracker = order_form_tracker(
        "9002",
        slots={"order_id": SHIPPED, "requested_slot": "phone_last4"},
        events=[SlotSet("phone_last4", "9002")],
    )
    events = await form.run(dispatcher, tracker, domain)
    assert SlotSet("phone_last4", "9002") in events
    assert SlotSet("verified_orders", [SHIPPED]) in events
    assert SlotSet("phone_attempts", 0) in events


async def test_run_third_wrong_answer_ends_the_form(form, guard, dispatcher, domain):
    fail(guard, 2)
    tracker = order_form_tracker(
        "1111",
        slots={"order_id": SHIPPED, "requested_slot": "phone_last4", "phone_attempts": 2},
        events=[SlotSet("phone_last4", "1111")],
    )
    events = await form.run(dispatcher, tracker, domain)
    assert SlotSet("phone_attempts", 3) in events
    assert SlotSet("phone_last4", None) in events
    assert events[-1] == SlotSet("requested_slot", None)
    assert "verified_orders" not in [e["name"] for e in events]


async def test_run_database_outage_ends_the_form_politely(broken_service, guard, dispatcher, domain):
    tracker = order_form_tracker(
        "9002",
        slots={"order_id": SHIPPED, "requested_slot": "phone_last4"},
        events=[SlotSet("phone_last4", "9002")],
    )
    form = ValidateOrderForm(orders=lambda: broken_service, guard=lambda: guard)
    events = await form.run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_order_service_down"]
    assert events == [
        SlotSet("order_id", None),
        SlotSet("phone_last4", None),
        SlotSet("requested_slot", None),
    ]


async def test_run_lock_out_records_unavailable_end_the_form_politely(service, tmp_path, dispatcher, domain):
    guard = VerificationGuard(SqlAttemptStore(f"sqlite:///{tmp_path / 'never-migrated.db'}"))
    tracker = order_form_tracker(
        "8001",
        slots={"order_id": SHIPPED, "requested_slot": "phone_last4"},
        events=[SlotSet("phone_last4", "8001")],
    )
    events = await ValidateOrderForm(orders=lambda: service, guard=lambda: guard).run(
        dispatcher, tracker, domain
    )
    assert responses(dispatcher) == ["utter_order_service_down"]
    assert SlotSet("requested_slot", None) in events


# --- the refund reason


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("尺码不合适", "尺码不合适"), ("  不想要了 ", "不想要了"), ("买错", "买错"), ("x" * 300, "x" * 200)],
)
async def test_a_refund_reason_in_the_customers_words(dispatcher, domain, typed, kept):
    tracker = make_tracker(typed, intent="inform", active_loop="refund_form")
    result = await ValidateRefundForm().validate_refund_reason(typed, dispatcher, tracker, domain)
    assert result == {"refund_reason": kept}
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["", "嗯", " ", None, "LT2026110111"])
async def test_not_a_refund_reason(dispatcher, domain, typed):
    tracker = make_tracker(typed or "", intent="inform", active_loop="refund_form")
    result = await ValidateRefundForm().validate_refund_reason(typed, dispatcher, tracker, domain)
    assert result == {"refund_reason": None}


async def test_refund_form_run_validates_the_reason(dispatcher, domain):
    tracker = make_tracker(
        "尺码不合适",
        intent="inform",
        active_loop="refund_form",
        slots={"requested_slot": "refund_reason"},
        events=[SlotSet("refund_reason", " 尺码不合适 ")],
    )
    events = await ValidateRefundForm().run(dispatcher, tracker, domain)
    assert events == [SlotSet("refund_reason", "尺码不合适")]


# --- the new address


@pytest.mark.parametrize(
    ("typed", "address"),
    [
        ("上海市徐汇区漕溪北路88号", "上海市徐汇区漕溪北路88号"),
        ("改到上海市徐汇区漕溪北路88号", "上海市徐汇区漕溪北路88号"),
        ("新地址是：北京市海淀区中关村大街27号", "北京市海淀区中关村大街27号"),
        ("地址改成 广州市天河区天河路385号", "广州市天河区天河路385号"),
        ("寄到，浙江省宁波市鄞州区四明中路999号", "浙江省宁波市鄞州区四明中路999号"),
    ],
)
async def test_a_new_address(dispatcher, domain, typed, address):
    tracker = make_tracker(typed, intent="inform", active_loop="address_form")
    result = await ValidateAddressForm().validate_new_address(typed, dispatcher, tracker, domain)
    assert result == {"new_address": address}
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["随便吧", "北京", "改到公司", "上海市", "", "路" * 201])
async def test_not_an_address(dispatcher, domain, typed):
    tracker = make_tracker(typed, intent="inform", active_loop="address_form")
    result = await ValidateAddressForm().validate_new_address(typed, dispatcher, tracker, domain)
    assert result == {"new_address": None}
    assert responses(dispatcher) == ["utter_address_invalid"]


def test_an_address_names_a_place_and_a_street():
    assert looks_like_address("杭州市西湖区文三路50号")
    assert not looks_like_address("文三路")


async def test_run_another_order_number_instead_of_the_digits_is_not_a_wrong_answer(form, dispatcher, domain):
    """Asked for the digits of LT2026110103, the customer names LT2026110104 instead: Rasa fills both
    order_id (entity) and phone_last4 (from_text). The new order is taken and its digits asked,
    and no attempt is used up."""
    tracker = order_form_tracker(
        "LT2026110104",
        slots={"order_id": SHIPPED, "requested_slot": "phone_last4", "phone_attempts": 0},
        events=[SlotSet("order_id", "LT2026110104"), SlotSet("phone_last4", "LT2026110104")],
    )
    events = await form.run(dispatcher, tracker, domain)
    assert SlotSet("order_id", "LT2026110104") in events
    assert SlotSet("phone_last4", None) in events
    assert "utter_phone_mismatch" not in responses(dispatcher)
    assert all(e["value"] in (0, None) for e in events if e["name"] == "phone_attempts")


async def test_run_digits_of_another_order_prefilled_at_activation_are_not_a_wrong_answer(
    form, dispatcher, domain
):
    """LT2026110103 was verified with 9002; the customer now asks about LT2026110101. At activation Rasa
    validates the prefilled slots, {order_id: LT2026110101, phone_last4: "9002"}: the customer answered
    nothing, so nothing is wrong and no attempt is used up; the digits of LT2026110101 are asked."""
    tracker = order_form_tracker(
        "查一下订单LT2026110101",
        slots={
            "order_id": U1001_ORDER,
            "phone_last4": "9002",
            "verified_orders": [SHIPPED],
            "phone_attempts": 0,
        },
        events=[SlotSet("order_id", U1001_ORDER), SlotSet("phone_last4", "9002")],
    )
    events = await form.run(dispatcher, tracker, domain)
    assert SlotSet("phone_last4", None) in events
    assert "utter_phone_mismatch" not in responses(dispatcher)
    assert all(e["value"] in (0, None) for e in events if e["name"] == "phone_attempts")


async def test_address_form_activation_says_nothing_before_an_address_was_given(dispatcher, domain):
    """action_handle_order_request clears new_address and address_confirmed in the turn the address form
    starts; Rasa passes those SlotSet(None) events to the validator as candidates."""
    tracker = make_tracker(
        "5005",
        intent="inform",
        active_loop="address_form",
        slots={"order_id": "LT2026110110", "new_address": None, "address_confirmed": None},
        events=[SlotSet("new_address", None), SlotSet("address_confirmed", None)],
    )
    events = await ValidateAddressForm().run(dispatcher, tracker, domain)
    assert dispatcher.messages == []
    assert SlotSet("new_address", None) in events
