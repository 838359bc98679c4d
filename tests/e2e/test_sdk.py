"""The Python SDK (longtang_sdk) against the real assistant: the SDK channel at /webhooks/sdk."""

from __future__ import annotations

import uuid

import pytest
import requests

from kefu.security.tokens import issue_customer_token
from longtang_sdk import AsyncClient, AuthenticationError, Client, NotFoundError

from .conftest import TOKEN_SECRET

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(assistant):
    with Client({"api_key": sdk_key(assistant), "endpoint": assistant.url, "timeout": 30_000}) as client:
        yield client


def sdk_key(assistant) -> str:
    """A key the assistant accepts: the first of SDK_API_KEYS when the fixture sets some."""
    entries = [e for e in assistant.env.get("SDK_API_KEYS", "").split(",") if e.strip()]
    return entries[0].rpartition(":")[2].strip() if entries else "YOUR_API_KEY"


def test_the_classic_integration_snippet_runs_as_written(assistant):
    from longtang_sdk import Client

    config = {"api_key": sdk_key(assistant), "endpoint": assistant.url, "timeout": 5000}
    client = Client(config)
    session = client.create_session(user_id="user_123", channel="web", context={"history": []})
    response = client.send_message(session_id=session.id, text="如何查询订单?", intent_filter=["query_order"])

    assert response.messages and response.text
    # Only the allowed intent may be chosen; when it does not fit well enough, the assistant
    # falls back (nlu_fallback) rather than picking another intent.
    assert response.intent is not None
    assert response.intent.name in {"query_order", "nlu_fallback"}
    assert 0.0 <= response.intent.confidence <= 1.0


def test_an_faq_answer_comes_with_its_intent_and_source(client):
    session = client.create_session(user_id="user_123", channel="web")
    response = client.send_message(session.id, "运费怎么算")
    assert "99元" in response.text
    assert response.intent.name == "faq"
    assert response.source is not None
    assert response.source.type in {"faq", "document"} and response.source.title
    assert not response.replayed


def test_the_intent_filter_excludes_intents_that_are_not_allowed(client):
    session = client.create_session()
    assert client.send_message(session.id, "你好").intent.name == "greet"
    filtered = client.send_message(session.id, "你好", intent_filter=["goodbye", "thank"])
    assert filtered.intent.name in {"goodbye", "thank", "nlu_fallback"}


def test_an_allowed_intent_that_fits_is_kept(client):
    session = client.create_session()
    response = client.send_message(session.id, "转人工", intent_filter=["request_human", "faq"])
    assert response.intent.name == "request_human"
    assert "人工客服" in response.text


def test_a_retried_message_is_answered_once(client):
    session = client.create_session()
    first = client.send_message(session.id, "怎么开发票", message_id="invoice-1")
    again = client.send_message(session.id, "怎么开发票", message_id="invoice-1")
    assert again.replayed and not first.replayed
    assert again.texts == first.texts
    assert again.intent == first.intent and again.source == first.source


def test_a_session_keeps_its_details(client):
    session = client.create_session(user_id="user_9", channel="app", context={"history": ["看过保温杯"]})
    assert client.get_session(session.id) == session
    client.send_message(session.id, "你好")
    assert client.get_session(session.id).context == {"history": ["看过保温杯"]}


def test_an_unknown_session_is_not_found(client):
    with pytest.raises(NotFoundError):
        client.send_message(uuid.uuid4().hex, "你好")


def test_the_customer_token_logs_the_customer_in(client):
    """u1002 owns LT2026110103: logged in, no phone check; anonymous, the assistant asks for it."""
    token = issue_customer_token("u1002", TOKEN_SECRET)
    logged_in = client.send_message(
        client.create_session().id, "我的订单LT2026110103到哪了", user_token=token
    )
    anonymous = client.send_message(client.create_session().id, "我的订单LT2026110103到哪了")
    assert "LT2026110103" in logged_in.text and "后4位" not in logged_in.text
    assert "后4位" in anonymous.text


def test_malformed_requests_are_a_json_400(assistant, client):
    session = client.create_session()
    url = f"{assistant.url}/webhooks/sdk/sessions/{session.id}/messages"
    for body in (b"{not json", b'{"text": 42}', b'{"text": "hi", "intent_filter": "faq"}'):
        headers = {"Content-Type": "application/json", "X-API-Key": sdk_key(assistant)}
        answer = requests.post(url, data=body, headers=headers, timeout=30)
        assert answer.status_code == 400
        assert answer.json()["code"] == "bad_request"


def test_a_wrong_api_key_is_refused_when_keys_are_configured(assistant):
    if not assistant.env.get("SDK_API_KEYS"):
        pytest.skip("the assistant runs without SDK_API_KEYS (development: any key is accepted)")
    with (
        pytest.raises(AuthenticationError),
        Client({"api_key": "wrong", "endpoint": assistant.url}) as client,
    ):
        client.create_session()


async def test_the_async_client_has_the_same_api(assistant):
    config = {"api_key": sdk_key(assistant), "endpoint": assistant.url, "timeout": 30_000}
    async with AsyncClient(config) as client:
        session = await client.create_session(user_id="user_123", channel="web")
        response = await client.send_message(session.id, "可以无理由退货吗")
    assert "7天" in response.text
    assert response.intent.name == "faq"
