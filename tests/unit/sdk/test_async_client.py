"""The asyncio client against a fake transport: the same behaviour as the synchronous one."""

import json

import pytest

import longtang_sdk
from longtang_sdk import APIConnectionError, AsyncClient, AuthenticationError, ServerError
from longtang_sdk.testing import AsyncFakeTransport, json_response
from longtang_sdk.transport import AiohttpTransport, HttpResponse, default_async_transport

ENDPOINT = "http://assistant.test"


def client_with(*answers, **settings) -> tuple[AsyncClient, AsyncFakeTransport]:
    transport = AsyncFakeTransport(list(answers))
    settings = {"endpoint": ENDPOINT, "api_key": "k-123", "timeout": 5000, "retry_backoff": 0, **settings}
    return AsyncClient(settings, transport=transport), transport


async def test_the_classic_snippet_with_await(created, replied):
    client, transport = client_with(created, replied)
    async with client:
        session = await client.create_session(user_id="user_123", channel="web", context={"history": []})
        response = await client.send_message(
            session_id=session.id, text="如何查询订单?", intent_filter=["query_order"], user_token="eyJ.t"
        )
    assert transport.closed
    sent = json.loads(transport.requests[1].body)
    assert sent["intent_filter"] == ["query_order"]
    assert sent["metadata"] == {"user_token": "eyJ.t"}
    assert response.intent.name == "faq"
    assert response.source.title == "如何查询订单"
    assert response.buttons[0].payload == "/request_human"


async def test_retries_5xx_and_connection_errors(created):
    client, transport = client_with(HttpResponse(500), APIConnectionError("reset"), created)
    assert (await client.create_session()).id == "s-1"
    assert len(transport.requests) == 3


async def test_gives_up_after_max_retries():
    client, transport = client_with(*[HttpResponse(502)] * 2, max_retries=1)
    with pytest.raises(ServerError):
        await client.create_session()
    assert len(transport.requests) == 2


async def test_never_retries_4xx_or_timeouts():
    client, transport = client_with(
        json_response(401, {"error": "bad key"}), longtang_sdk.TimeoutError("slow")
    )
    with pytest.raises(AuthenticationError):
        await client.create_session()
    with pytest.raises(longtang_sdk.TimeoutError):
        await client.send_message("s-1", "你好")
    assert len(transport.requests) == 2


async def test_backoff_waits_are_awaited(created):
    client, _ = client_with(APIConnectionError("x"), APIConnectionError("x"), created, retry_backoff=200)
    waits = []

    async def sleep(seconds):
        waits.append(seconds)

    client._sleep = sleep
    client._rand = lambda: 0.0
    await client.create_session()
    assert waits == [0.1, 0.2]  # half of 0.2s and 0.4s with the lowest jitter


async def test_the_default_transport_is_aiohttp_when_installed():
    transport = default_async_transport()  # aiohttp is pinned in requirements.txt
    try:
        assert isinstance(transport, AiohttpTransport)
    finally:
        await transport.aclose()
