"""The synchronous client against a fake transport."""

import json

import pytest

import longtang_sdk
from longtang_sdk import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    Client,
    NotFoundError,
    RateLimitedError,
    ServerError,
    Session,
)
from longtang_sdk.testing import FakeTransport, json_response
from longtang_sdk.transport import HttpResponse

ENDPOINT = "http://assistant.test"


def client_with(*answers, **settings) -> tuple[Client, FakeTransport]:
    transport = FakeTransport(list(answers))
    settings = {"endpoint": ENDPOINT, "api_key": "k-123", "timeout": 5000, "retry_backoff": 0, **settings}
    return Client(settings, transport=transport), transport


def body_of(request) -> dict:
    return json.loads(request.body.decode("utf-8"))


def test_the_classic_snippet(created, replied):
    client, transport = client_with(created, replied)
    session = client.create_session(user_id="user_123", channel="web", context={"history": []})
    response = client.send_message(session_id=session.id, text="如何查询订单?", intent_filter=["query_order"])

    create, send = transport.requests
    assert (create.method, create.url) == ("POST", f"{ENDPOINT}/webhooks/sdk/sessions")
    assert body_of(create) == {"user_id": "user_123", "channel": "web", "context": {"history": []}}
    assert (send.method, send.url) == ("POST", f"{ENDPOINT}/webhooks/sdk/sessions/s-1/messages")
    sent = body_of(send)
    assert sent["text"] == "如何查询订单?"
    assert sent["intent_filter"] == ["query_order"]
    assert len(sent["message_id"]) == 32
    assert transport.timeouts == [5.0, 5.0]

    assert session == Session("s-1", "user_123", "web", {"history": []}, "2026-11-21T08:00:00+00:00")
    assert response.texts == ["在“我的订单”页面可以查看订单状态。", "还需要别的帮助吗？"]
    assert response.text == "在“我的订单”页面可以查看订单状态。\n还需要别的帮助吗？"
    assert [(b.title, b.payload) for b in response.buttons] == [("转人工", "/request_human")]
    assert (response.intent.name, response.intent.confidence) == ("faq", 0.93)
    assert (response.source.type, response.source.id, response.source.title) == (
        "faq",
        "faq_order_query",
        "如何查询订单",
    )
    assert response.messages[1].custom == {
        "source": {"type": "faq", "id": "faq_order_query", "title": "如何查询订单", "score": 0.91}
    }
    assert response.entities[0].value == "LT2026110101"


def test_sends_the_api_key_as_a_bearer_token_and_json_utf8(created):
    client, transport = client_with(created)
    client.create_session()
    headers = transport.requests[0].headers
    assert headers["Authorization"] == "Bearer k-123"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"].startswith(f"longtang-sdk/{longtang_sdk.__version__}")


def test_no_api_key_no_authorization_header(created):
    client, transport = client_with(created, api_key=None)
    client.create_session()
    assert "Authorization" not in transport.requests[0].headers


def test_the_customer_token_travels_as_metadata_user_token(replied):
    client, transport = client_with(replied)
    client.send_message("s-1", "我的订单到哪了", user_token="eyJ.token", metadata={"page": "orders"})
    assert body_of(transport.requests[0])["metadata"] == {"page": "orders", "user_token": "eyJ.token"}


def test_a_session_object_or_its_id_and_ids_are_escaped(replied):
    client, transport = client_with(replied, replied)
    client.send_message(Session("a/b c"), "你好")
    client.send_message("s-1", "你好", message_id="fixed-1")
    assert transport.requests[0].url.endswith("/sessions/a%2Fb%20c/messages")
    assert body_of(transport.requests[1])["message_id"] == "fixed-1"


def test_get_session(answers):
    client, transport = client_with(json_response(200, answers.session("s-9")))
    assert client.get_session("s-9").id == "s-9"
    assert (transport.requests[0].method, transport.requests[0].url) == (
        "GET",
        f"{ENDPOINT}/webhooks/sdk/sessions/s-9",
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (413, BadRequestError),
        (429, RateLimitedError),
    ],
)
def test_4xx_raise_at_once_without_retrying(status, error):
    client, transport = client_with(json_response(status, {"error": "说明 explanation", "code": "x"}))
    with pytest.raises(error) as raised:
        client.send_message("s-1", "你好")
    assert len(transport.requests) == 1
    assert raised.value.status_code == status
    assert raised.value.message == "说明 explanation"
    assert raised.value.code == "x"


def test_rate_limited_tells_how_long_to_wait():
    client, _ = client_with(json_response(429, {"error": "slow down"}, {"Retry-After": "7"}))
    with pytest.raises(RateLimitedError) as raised:
        client.create_session()
    assert raised.value.retry_after == 7.0


def test_5xx_are_retried_then_succeed(created):
    client, transport = client_with(json_response(503, {"error": "busy"}), HttpResponse(502), created)
    assert client.create_session().id == "s-1"
    assert len(transport.requests) == 3


def test_5xx_beyond_max_retries_raise_server_error():
    client, transport = client_with(*[json_response(500, {"error": "boom"})] * 3, max_retries=2)
    with pytest.raises(ServerError, match="boom"):
        client.create_session()
    assert len(transport.requests) == 3


def test_connection_errors_are_retried(created):
    client, transport = client_with(APIConnectionError("refused"), created)
    assert client.create_session().id == "s-1"
    assert len(transport.requests) == 2


def test_connection_errors_beyond_max_retries_are_raised():
    client, transport = client_with(
        APIConnectionError("refused"), APIConnectionError("refused"), max_retries=1
    )
    with pytest.raises(APIConnectionError):
        client.create_session()
    assert len(transport.requests) == 2


def test_timeouts_are_not_retried():
    client, transport = client_with(longtang_sdk.TimeoutError("slow"), max_retries=3)
    with pytest.raises(longtang_sdk.TimeoutError):
        client.send_message("s-1", "你好")
    assert len(transport.requests) == 1


def test_a_retried_message_keeps_its_message_id(replied):
    client, transport = client_with(APIConnectionError("reset"), replied)
    client.send_message("s-1", "你好")
    first, second = (body_of(r)["message_id"] for r in transport.requests)
    assert first == second


def test_waits_between_retries_grow(created):
    client, _ = client_with(
        APIConnectionError("x"),
        APIConnectionError("x"),
        APIConnectionError("x"),
        created,
        max_retries=3,
        retry_backoff=100,
        max_retry_wait=10_000,
    )
    waits = []
    client._sleep = waits.append
    client._rand = lambda: 1.0
    client.create_session()
    assert waits == [0.1, 0.2, 0.4]


def test_the_server_retry_after_is_honoured_up_to_the_cap(created):
    client, _ = client_with(HttpResponse(503, {"Retry-After": "30"}), created, max_retry_wait=2000)
    waits = []
    client._sleep = waits.append
    client.create_session()
    assert waits == [2.0]


def test_a_non_json_success_answer_is_an_api_error():
    client, _ = client_with(HttpResponse(200, {}, b"<html>proxy</html>"))
    with pytest.raises(longtang_sdk.APIError):
        client.create_session()


def test_an_error_without_json_body_still_explains():
    client, _ = client_with(HttpResponse(404, {}, b"Not Found"))
    with pytest.raises(NotFoundError, match="Not Found"):
        client.get_session("nope")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.send_message("s-1", 42),
        lambda c: c.send_message("s-1", "hi", intent_filter="query_order"),
        lambda c: c.send_message("s-1", "hi", metadata=["x"]),
        lambda c: c.send_message("", "hi"),
        lambda c: c.create_session(context=["history"]),
    ],
)
def test_programming_errors_are_type_errors_and_send_nothing(call):
    client, transport = client_with()
    with pytest.raises(TypeError):
        call(client)
    assert transport.requests == []


def test_every_error_is_a_longtang_error_and_timeout_a_timeout_error():
    assert issubclass(longtang_sdk.TimeoutError, TimeoutError)
    for error in (APIConnectionError, AuthenticationError, RateLimitedError, longtang_sdk.TimeoutError):
        assert issubclass(error, longtang_sdk.LongtangError)


def test_closing_closes_the_transport():
    client, transport = client_with()
    with client:
        pass
    assert transport.closed
