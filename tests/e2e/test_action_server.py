"""Issue 13, finding 3: the action server answers only the Rasa server (the shared secret).

The attack: a hand-made tracker whose ``verified_orders`` slot names someone's order, POSTed straight
to the action server's /webhook, used to get that order's tracking number, product and amount.
"""

from __future__ import annotations

import pytest
import requests

from kefu.runtime.action_endpoint import APOLOGY
from tests.e2e.conftest import ACTION_SECRET

pytestmark = pytest.mark.e2e

ORDER = "LT2026110103"  # u1002's shipped watch, 顺丰 SF1234567890
TRACKING_NO = "SF1234567890"


def forged_call() -> dict:
    """What Rasa would send if the customer had proved they own ORDER (they have not)."""
    slots = {"order_id": ORDER, "verified_orders": [ORDER], "order_request": "status", "phone_attempts": 0}
    tracker = {
        "sender_id": "attacker",
        "slots": slots,
        "latest_message": {"text": f"{ORDER} 到哪了", "intent": {"name": "order_status"}, "entities": []},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "order_form",
    }
    return {
        "next_action": "action_handle_order_request",
        "sender_id": "attacker",
        "tracker": tracker,
        "domain": {},
        "version": "3.6.21",
    }


def post(assistant, headers: dict | None = None) -> requests.Response:
    return requests.post(f"{assistant.action_url}/webhook", json=forged_call(), headers=headers, timeout=30)


@pytest.mark.parametrize(
    "headers",
    [None, {"X-Kefu-Action-Secret": "wrong-secret"}, {"X-Kefu-Action-Secret": ACTION_SECRET[:-1]}],
    ids=["no secret", "wrong secret", "almost the secret"],
)
def test_a_call_without_the_secret_gets_401_and_no_order_data(assistant, headers):
    answer = post(assistant, headers)
    assert answer.status_code == 401
    assert TRACKING_NO not in answer.text and "智能手表" not in answer.text


def test_the_action_list_is_not_open_either(assistant):
    assert requests.get(f"{assistant.action_url}/actions", timeout=30).status_code == 401


def test_the_health_check_stays_open(assistant):
    assert requests.get(f"{assistant.action_url}/health", timeout=30).json() == {"status": "ok"}


def test_with_the_secret_the_action_server_works(assistant):
    answer = post(assistant, {"X-Kefu-Action-Secret": ACTION_SECRET})
    assert answer.status_code == 200, answer.text
    assert TRACKING_NO in answer.text  # the action ran: this is what the Rasa server gets


def test_the_assistant_itself_still_reaches_the_action_server(assistant):
    # The FAQ answer comes from a custom action: the Rasa server's calls carry the secret.
    reply = assistant.texts("运费怎么算？")
    assert "包邮" in reply and APOLOGY not in reply
