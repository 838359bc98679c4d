"""Issue 13, finding 6: per-IP limits that never applied over REST, and a login blocked by other calls.

A second Rasa server with small limits (the session's assistant runs with limits out of reach, for
the fuzz tests), sharing the session's database and action server. All traffic comes from 127.0.0.1.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.conftest import _stop, start_rasa
from tests.processes import free_port, wait_until_ready

pytestmark = pytest.mark.e2e

CHAT_RATE = 3  # per conversation; per IP it is 5x that (kefu.security.ratelimit.IP_SHARE)
LOGIN_RATE = 3
# Fixed one-minute windows: a bound of two windows' allowance plus some, whenever the test starts.
MAX_REQUESTS = 2 * 5 * CHAT_RATE + 10


@pytest.fixture(scope="module")
def limited(assistant, tmp_path_factory) -> str:
    env = {
        **assistant.env,
        "CHAT_RATE_PER_MINUTE": str(CHAT_RATE),
        "LOGIN_RATE_PER_MINUTE": str(LOGIN_RATE),
        "ADMIN_RATE_PER_MINUTE": "1000",
    }
    port = free_port()
    log = tmp_path_factory.mktemp("limited") / "rasa.log"
    rasa = start_rasa(port, env, log)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/", rasa, "the rate-limited Rasa server")
        yield f"http://127.0.0.1:{port}"
    except RuntimeError:
        print(log.read_text(errors="replace")[-5000:])
        raise
    finally:
        _stop(rasa)


def test_new_conversations_and_handoff_requests_from_one_ip_are_limited(limited):
    refused: dict[str, int] = {"你好": 0, "转人工": 0}
    for number in range(MAX_REQUESTS):
        text = "你好" if number % 2 == 0 else "转人工"
        # A fresh conversation each time, and a forged client address (no proxy is trusted here).
        answer = requests.post(
            f"{limited}/webhooks/rest/webhook",
            json={"sender": f"flood-{uuid.uuid4().hex}", "message": text},
            headers={"X-Forwarded-For": f"203.0.113.{number}", "X-Real-IP": f"198.51.100.{number}"},
            timeout=60,
        )
        if answer.status_code == 429:
            assert 1 <= int(answer.headers["Retry-After"]) <= 60
            refused[text] += 1
        else:
            assert answer.status_code == 200, answer.text
        if all(refused.values()):
            break
    assert all(refused.values()), f"one address was never limited: {refused}"


def test_other_admin_requests_do_not_block_a_login(limited):
    for _ in range(LOGIN_RATE * 4):
        assert requests.get(f"{limited}/admin/api/openapi.json", timeout=30).status_code == 200
    wrong = {"username": "admin", "password": "not-the-password"}
    statuses = [
        requests.post(f"{limited}/admin/api/auth/login", json=wrong, timeout=30).status_code
        for _ in range(LOGIN_RATE + 1)
    ]
    # The first login attempts are judged (401), then the login limit itself applies (429) — unless
    # the minute turned over in between, which can only add a 401.
    assert statuses[0] == 401 and set(statuses) <= {401, 429}
