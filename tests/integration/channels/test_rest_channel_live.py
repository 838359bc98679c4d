"""The REST channel on a real Sanic server, over HTTP, next to Rasa's own for comparison."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from rasa.core.channels.rest import RestInput as StockRestInput

from kefu.channels.message_guard import (
    EMPTY_MESSAGE_REPLY,
    TOO_LONG_MESSAGE_REPLY,
    UNREADABLE_MESSAGE_REPLY,
)
from kefu.channels.rest import RestInput
from kefu.security.conversation_access import KEY_HEADER
from kefu.security.tokens import issue_customer_token

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
    "deeply-nested": b'{"sender": "a", "message": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
}


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(
    http: aiohttp.ClientSession, url: str, body: bytes, key: str | None = None
) -> tuple[int, str, Any]:
    """Status, content type and body (JSON when it is JSON) of one webhook request."""
    headers = {"Content-Type": "application/json", **({KEY_HEADER: key} if key else {})}
    async with http.post(url, data=body, headers=headers) as response:
        text = await response.text()
        try:
            payload = json.loads(text)
        except ValueError:
            payload = text
        return response.status, response.content_type, payload


async def opened(http: aiohttp.ClientSession, url: str, sender: str) -> str:
    """Opens the conversation ``sender`` with a blank message (no assistant involved); its key."""
    body = json.dumps({"sender": sender, "message": " "}).encode()
    async with http.post(url, data=body) as response:
        assert response.status == 200
        return response.headers[KEY_HEADER]


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
    key = await opened(http, url + WEBHOOK, "u1")

    assert await post(http, url + WEBHOOK, too_long, key) == (
        200,
        "application/json",
        [{"recipient_id": "u1", "text": TOO_LONG_MESSAGE_REPLY.format(max_chars=50)}],
    )
    assert (await post(http, url + WEBHOOK, just_right, key))[2] == [
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
        {"user_token": "tok-1", "client_ip": "127.0.0.1"},  # the address: the server's own view
    )


async def test_streamed_replies(live: Any, http: aiohttp.ClientSession) -> None:
    url = await live.start(RestInput(max_message_chars=1000))

    lines, keys = [], []
    for text in ("你好", " "):
        body = json.dumps({"sender": "u1", "message": text}).encode()
        headers = {KEY_HEADER: keys[0]} if keys else {}
        async with http.post(url + WEBHOOK + "?stream=true", data=body, headers=headers) as response:
            assert response.status == 200
            keys.extend([response.headers[KEY_HEADER]] if KEY_HEADER in response.headers else [])
            lines.append([json.loads(line) for line in (await response.text()).splitlines()])
    assert len(keys) == 1  # issued once, with the first streamed reply

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


# ---- who may use a conversation --------------------------------------------------------------------
async def get_messages(http: aiohttp.ClientSession, url: str, sender: str, headers=None) -> tuple[int, Any]:
    async with http.get(
        url + "/webhooks/rest/messages", params={"sender": sender, "since": "0"}, headers=headers or {}
    ) as response:
        return response.status, await response.json()


async def test_a_conversation_is_read_and_continued_only_with_its_key(
    live: Any, http: aiohttp.ClientSession
) -> None:
    url = await live.start(RestInput(max_message_chars=1000))
    first = json.dumps({"sender": "readme-user", "message": "你好"}).encode()
    async with http.post(url + WEBHOOK, data=first) as response:
        assert response.status == 200
        key = response.headers[KEY_HEADER]
        assert response.headers["Access-Control-Expose-Headers"] == KEY_HEADER
    later = json.dumps({"sender": "readme-user", "message": "我的订单"}).encode()

    stranger = await post(http, url + WEBHOOK, later)
    guesser = await post(http, url + WEBHOOK, later, "not-the-key")
    owner = await post(http, url + WEBHOOK, later, key)

    assert (stranger[0], guesser[0]) == (401, 403)
    assert (
        re.search(r"[\u4e00-\u9fff]", stranger[2]["error"]) and "X-Conversation-Key" in stranger[2]["error"]
    )
    assert owner[:2] == (200, "application/json")
    assert [m.text for m in live.assistant.messages] == ["你好", "我的订单"]  # nothing of the stranger's
    assert (await get_messages(http, url, "readme-user"))[0] == 401
    assert (await get_messages(http, url, "readme-user", {KEY_HEADER: "guess"}))[0] == 403
    assert (await get_messages(http, url, "unknown-user"))[0] == 401  # unknown ids look the same


async def test_a_customer_continues_with_their_token(live: Any, http: aiohttp.ClientSession) -> None:
    channel = RestInput(max_message_chars=1000)
    secret = "rest-live-customer-token-secret-0123456789"
    channel.settings = replace(channel.settings, customer_token_secret=secret)
    url = await live.start(channel)
    alice = issue_customer_token("u1", secret)
    bob = issue_customer_token("u2", secret)

    def message(token: str) -> bytes:
        return json.dumps({"sender": "c1", "message": "订单", "metadata": {"user_token": token}}).encode()

    assert (await post(http, url + WEBHOOK, message(alice)))[0] == 200
    assert (await post(http, url + WEBHOOK, message(alice)))[0] == 200  # no key needed: the token
    assert (await post(http, url + WEBHOOK, message(bob)))[0] == 403
    assert (await get_messages(http, url, "c1", {"Authorization": f"Bearer {alice}"}))[0] == 200
    assert (await get_messages(http, url, "c1", {"Authorization": f"Bearer {bob}"}))[0] == 403


async def test_oversized_metadata_is_a_413(live: Any, http: aiohttp.ClientSession) -> None:
    url = await live.start(RestInput(max_message_chars=1000))
    body = json.dumps({"sender": "u1", "message": "hi", "metadata": {"blob": "x" * 20_000}}).encode()

    status, _, payload = await post(http, url + WEBHOOK, body)

    assert status == 413 and "metadata" in payload["error"]
    assert live.assistant.messages == []


async def test_a_lone_surrogate_is_answered_politely(live: Any, http: aiohttp.ClientSession) -> None:
    url = await live.start(RestInput(max_message_chars=1000))

    status, _, payload = await post(http, url + WEBHOOK, b'{"sender": "u1", "message": "\\ud800"}')

    assert (status, payload) == (200, [{"recipient_id": "u1", "text": UNREADABLE_MESSAGE_REPLY}])
    assert live.assistant.messages == []
