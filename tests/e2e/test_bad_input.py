"""Hostile and odd input gets a sensible reply and never takes the server down."""

import pytest
import requests

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "退" * 10_000,
        "😀😀😀🎉",
        "<script>alert('x')</script><img src=x onerror=alert(1)>",
        "'; DROP TABLE orders; -- OR 1=1",
        "\u0000\u202e控制字符\ufeff",
    ],
    ids=["empty", "blank", "10k-chars", "emoji", "html", "sql", "control-chars"],
)
def test_odd_messages_get_a_polite_reply(assistant, text):
    messages = assistant.say(text)
    reply = "\n".join(m.get("text", "") for m in messages)
    assert reply, f"no reply to {text[:30]!r}"
    assert "Traceback" not in reply and "Error" not in reply
    assert "<script>" not in reply


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2, 3]", b'{"message": "hi"}', b'{"sender": "a", "message": 42}', b""],
    ids=["invalid-json", "array", "no-sender", "number-message", "empty-body"],
)
def test_malformed_rest_bodies_are_a_clear_400(assistant, body):
    response = requests.post(
        f"{assistant.url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"]


def test_server_keeps_serving_after_abuse(assistant):
    assert "您好" in assistant.texts("你好")
