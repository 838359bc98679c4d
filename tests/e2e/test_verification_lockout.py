"""The phone-digit brute force of the security test (issue 13, finding 1), against the real assistant.

Before the fix, each new sender id (or the order number sent again) gave three fresh tries and an
unknown order number answered "没有找到": a bounded sweep found an order's 4 digits in 18 requests.
Now the wrong answers are counted per order in shared state: the sweep is locked out after three,
whatever sender id it uses, and the right digits are not even compared while it lasts. Every request
goes to 127.0.0.1 and the loops are bounded. The locked order (LT2026110112) is used by no other test,
and staff lift the lock at the end through the admin API.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e

TARGET, TARGET_DIGITS = "LT2026110112", "4006"  # u1006, phone 13400134006 (kefu/seed_data/orders.csv)
SWEEP = 12  # wrong guesses tried, each in a new conversation, half of them re-sending the order number
ASKS_DIGITS = "后4位"


def first_answer(assistant, text: str) -> str:
    return assistant.texts(text, f"sweep-{uuid.uuid4().hex}")


def admin_headers(assistant) -> dict[str, str]:
    answer = requests.post(
        f"{assistant.url}/admin/api/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_known_and_unknown_order_numbers_get_the_same_first_answer(assistant):
    known = first_answer(assistant, "查一下订单LT2026110105")
    unknown = first_answer(assistant, "查一下订单LT2099123456")
    assert ASKS_DIGITS in known and ASKS_DIGITS in unknown
    assert known.replace("LT2026110105", "<order>") == unknown.replace("LT2099123456", "<order>")
    assert "没有找到" not in unknown


def test_wrong_digits_for_an_unknown_order_are_answered_like_for_a_known_one(assistant):
    replies = []
    for order_id in ("LT2026110106", "LT2099654321"):
        sender = f"sweep-{uuid.uuid4().hex}"
        assistant.texts(f"查一下订单{order_id}", sender)
        replies.append(assistant.texts("0000", sender).replace(order_id, "<order>"))
    assert replies[0] == replies[1] and "还可以再试2次" in replies[0], replies


def test_a_sweep_across_new_conversations_is_locked_out_and_staff_can_lift_it(assistant):
    replies = []
    for n in range(SWEEP):
        sender = f"sweep-{uuid.uuid4().hex}"  # a new conversation: before the fix, three fresh tries
        assistant.texts(f"查一下订单{TARGET}", sender)
        if n % 2:
            assistant.texts(TARGET, sender)  # the order number sent again: before the fix, a reset
        replies.append(assistant.texts(f"{n:04d}", sender))
    assert "还可以再试2次" in replies[0] and "还可以再试1次" in replies[1], replies
    for reply in replies[2:]:
        assert "验证已暂时锁定" in reply and "15分钟" in reply, replies

    # Even the right digits, from yet another conversation, are not compared while the lock lasts.
    sender = f"sweep-{uuid.uuid4().hex}"
    assistant.texts(f"查一下订单{TARGET}", sender)
    locked = assistant.texts(TARGET_DIGITS, sender)
    assert "验证已暂时锁定" in locked and "猫粮" not in locked and "SF0987654321" not in locked, locked

    headers = admin_headers(assistant)
    listed = requests.get(f"{assistant.url}/admin/api/verification-locks", headers=headers, timeout=30)
    assert listed.status_code == 200, listed.text
    [lock] = [lock for lock in listed.json()["locks"] if lock["key"] == f"order:{TARGET}"]
    assert lock["kind"] == "order" and 0 < lock["seconds_left"] <= 900
    cleared = requests.delete(
        f"{assistant.url}/admin/api/verification-locks/order:{TARGET}", headers=headers, timeout=30
    )
    assert cleared.status_code == 204, cleared.text

    # Lifted by staff: the owner's digits work again.
    sender = f"sweep-{uuid.uuid4().hex}"
    assistant.texts(f"查一下订单{TARGET}", sender)
    assert TARGET in assistant.texts(TARGET_DIGITS, sender)
