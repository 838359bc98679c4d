"""Issue 13, finding 9: CORS reflected any origin, with credentials, on every route.

The assistant runs with ALLOWED_ORIGINS=SHOP_ORIGIN (tests/e2e/conftest.py).
"""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import SHOP_ORIGIN

pytestmark = pytest.mark.e2e

ROUTES = ["/webhooks/rest/", "/webhooks/rest/webhook", "/admin/api/openapi.json", "/"]


def preflight(assistant, path: str, origin: str) -> requests.Response:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    return requests.options(f"{assistant.url}{path}", headers=headers, timeout=30)


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("origin", ["https://evil.example", "null", SHOP_ORIGIN + ".evil.example"])
def test_an_unlisted_origin_gets_no_cors_headers(assistant, path, origin):
    for answer in (
        preflight(assistant, path, origin),
        requests.get(f"{assistant.url}{path}", headers={"Origin": origin}, timeout=30),
    ):
        assert "Access-Control-Allow-Origin" not in answer.headers, (path, answer.headers)
        assert "Access-Control-Allow-Credentials" not in answer.headers


def test_a_listed_origin_is_allowed(assistant):
    answer = preflight(assistant, "/webhooks/rest/webhook", SHOP_ORIGIN)
    assert answer.headers.get("Access-Control-Allow-Origin") == SHOP_ORIGIN
    chat = requests.post(
        f"{assistant.url}/webhooks/rest/webhook",
        json={"sender": "cors-shop-page", "message": "你好"},
        headers={"Origin": SHOP_ORIGIN},
        timeout=60,
    )
    assert chat.status_code == 200 and chat.headers.get("Access-Control-Allow-Origin") == SHOP_ORIGIN


def test_the_served_pages_work_without_cors(assistant):
    # Same origin: the web chat page calls the server it came from, which needs no CORS header.
    assert requests.get(f"{assistant.url}/webchat/", timeout=30).status_code == 200
