"""The REST channel on a real Sanic server, over HTTP, next to Rasa's own for comparison."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from rasa.core.channels.rest import RestInput as StockRestInput

from kefu.rasa_addons.message_guard import EMPTY_MESSAGE_REPLY, TOO_LONG_MESSAGE_REPLY
from kefu.rasa_addons.rest_channel import RestInput

pytestmark = pytest.mark.integration

WEBHOOK = "/webhooks/rest/webhook"

BAD_BODIES = {
    "invalid-json": b"{not json",
    "empty-body": b"",
    "not-utf8": b'{"sender": "\xff"}',
    "array": b"[1, 2, 3]",
    "string": b'"hello"',
    "no-sender": b'{"message": "hi"}',
    "number-sender": b'{"sender": 5, "message": "hi"}',
    "blank-sender": b'{"sender": "  ", "message": "hi"}',
    "huge-sender": json.dumps({"sender": "u" * 256, "message": "hi"}).encode(),
    "no-message": b'{"sender": "a"}',
    "number-message": b'{"sender": "a", "message": 42}',
    "null-message": b'{"sender": "a", "message": null}',
    "list-message": b'{"sender": "a", "message": ["hi"]}',
    "string-metadata": b'{"sender": "a", "message": "hi", "metadata": "user_token=1"}',
    "number-input-channel": b'{"sender": "a", "message": "hi", "input_channel": 1}',
    "deeply-nested": b'{"sender": "a", "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(http: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, str, Any]:
    """Status, content type and body (JSON when it is JSON) of one webhook request."""
    headers = {"Content-Type": "application/json"}
    async with http.post(url, data=body, headers=headers) as response:
        text = await response.text()
        try:
            payload = json.loads(text)
        except ValueError:
            payload = text
        return response.status, response.content_type, payload


def sanic_error(status: int, description: str, message: str) -> tuple[int, dict[str, Any]]:
    """Sanic's own error response, as JSON for a JSON request (an HTML page otherwise)."""
    return status, {"description": description, "status": status, "message": message}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_malformed_request_is_a_400_with_a_bilingual_explanation(
    live: Any, http: aiohttp.ClientSession, body: bytes
) -> None:
    url = await live.start(RestInput(max_message_chars=1000))

    status, content_type, payload = await post(http, url + WEBHOOK, body)

    assert (status, content_type) == (400, "application/json")
    assert re.search(r"[\u4e00-\u9fff]", payload["error"]) and re.search(r"[A-Za-z]{4,} ", payload["error"])
    assert live.assistant.messages == []


async def test_stock_rest_channel_on_the_same_requests(live: Any, http: aiohttp.ClientSession) -> None:
    """Documents what Rasa 3.6.21's own channel answers, the reason for ours."""
    url = await live.start(StockRestInput())
    outcomes = {}
    for name in ("invalid-json", "empty-body", "array", "no-sender", "number-message", "no-message"):
        status, _, payload = await post(http, url + WEBHOOK, BAD_BODIES[name])
        outcomes[name] = (status, payload)

    server_error = "The server encountered an internal error and cannot complete your request."
    assert outcomes == {
        "invalid-json": sanic_error(400, "Bad Request", "Failed when parsing body as json"),
        "empty-body": sanic_error(500, "Internal Server Error", server_error),  # None.get("sender")
        "array": sanic_error(500, "Internal Server Error", server_error),  # list.get("sender")
        "no-sender": (200, [{"recipient_id": "default", "text": "收到：hi"}]),
        "number-message": (200, []),  # UserMessage raised AttributeError, logged, answered with nothing
        "no-message": (200, [{"recipient_id": "a", "text": "收到：None"}]),  # None went to the assistant
    }
    # the message without a sender went into the conversation every such client shares
    assert [m.sender_id for m in live.assistant.messages] == ["default", "a"]


@pytest.mark.parametrize("text", ["", "   ", "\u3000", "\u200b\n"])
async def test_empty_message_gets_the_polite_reply(live: Any, http: aiohttp.ClientSession, text: str) -> None:
    url = await live.start(RestInput(max_message_chars=1000))
    request = json.dumps({"sender": "u1", "message": text}).encode()

    status, _, payload = await post(http, url + WEBHOOK, request)

    assert (status, payload) == (200, [{"recipient_id": "u1", "text": EMPTY_MESSAGE_REPLY}])
    assert live.assistant.messages == []


async def test_long_message_gets_the_polite_reply(live: Any, http: aiohttp.ClientSession) -> None:
    url = await live.start(RestInput(max_message_chars=50))
    too_long = json.dumps({"sender": "u1", "message": "退" * 51}).encode()
    just_right = json.dumps({"sender": "u1", "message": "退" * 50}).encode()

    assert await post(http, url + WEBHOOK, too_long) == (
        200,
        "application/json",
        [{"recipient_id": "u1", "text": TOO_LONG_MESSAGE_REPLY.format(max_chars=50)}],
    )
    assert (await post(http, url + WEBHOOK, just_right))[2] == [
        {"recipient_id": "u1", "text": "收到：" + "退" * 50}
    ]
    assert [m.text for m in live.assistant.messages] == ["退" * 50]


async def test_message_reaches_the_assistant_with_its_metadata(
    live: Any, http: aiohttp.ClientSession
) -> None:
    url = await live.start(RestInput(max_message_chars=1000))
    body = {"sender": "u1", "message": "我的订单到哪了", "metadata": {"user_token": "tok-1"}}

    status, _, payload = await post(http, url + WEBHOOK, json.dumps(body).encode())

    assert (status, payload) == (200, [{"recipient_id": "u1", "text": "收到：我的订单到哪了"}])
    (message,) = live.assistant.messages
    assert (message.sender_id, message.input_channel, message.metadata) == (
        "u1",
        "rest",
        {"user_token": "tok-1"},
    )


async def test_streamed_replies(live: Any, http: aiohttp.ClientSession) -> None:
    url = await live.start(RestInput(max_message_chars=1000))

    lines = []
    for text in ("你好", " "):
        body = json.dumps({"sender": "u1", "message": text}).encode()
        async with http.post(url + WEBHOOK + "?stream=true", data=body) as response:
            assert response.status == 200
            lines.append([json.loads(line) for line in (await response.text()).splitlines()])

    assert lines == [
        [{"recipient_id": "u1", "text": "收到：你好"}],
        [{"recipient_id": "u1", "text": EMPTY_MESSAGE_REPLY}],
    ]


async def test_server_keeps_serving_after_abuse(live: Any, http: aiohttp.ClientSession) -> None:
    url = await live.start(RestInput(max_message_chars=1000))
    for body in BAD_BODIES.values():
        await post(http, url + WEBHOOK, body)

    _, _, payload = await post(http, url + WEBHOOK, json.dumps({"sender": "u1", "message": "你好"}).encode())
    async with http.get(url + "/webhooks/rest/") as health:
        assert (health.status, await health.json()) == (200, {"status": "ok"})

    assert payload == [{"recipient_id": "u1", "text": "收到：你好"}]
