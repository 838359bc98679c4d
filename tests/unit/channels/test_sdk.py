"""The SDK channel's routes, called with a fake agent (real in-memory tracker and lock stores)."""

import json
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from sanic.compat import Header

from kefu.channels.http import ApiError
from kefu.channels.message_guard import EMPTY_MESSAGE_REPLY
from kefu.channels.sdk import SdkInput, bot_messages
from kefu.channels.sdk_requests import application_of, parse_message_body, parse_session_body
from kefu.security.conversation_access import InMemoryOwnerRegistry
from kefu.settings import SettingsError
from tests.unit.channels.fakes import FakeProcessor

SOURCE = {"type": "faq", "id": "shipping_fee", "title": "运费怎么算", "score": 0.93}


class FakeAssistant:
    """Answers every message with a FAQ answer plus its source, and logs the turn like Rasa."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.lock_store = InMemoryLockStore()
        self.processor = FakeProcessor(self.tracker_store)
        self.received: list[UserMessage] = []
        self.fail = False

    def is_ready(self) -> bool:
        return True

    async def handle(self, message: UserMessage) -> None:
        if self.fail:
            raise RuntimeError("the model crashed")
        self.received.append(message)
        allowed = (message.metadata or {}).get("intent_filter") or ["faq"]
        tracker = await self.tracker_store.retrieve(message.sender_id)
        intent = {"name": allowed[0], "confidence": 0.9}
        tracker.update(
            UserUttered(message.text, intent, [], message_id=message.message_id, metadata=message.metadata)
        )
        tracker.update(BotUttered("满99元包邮。", {"custom": {"source": SOURCE}}))
        await self.tracker_store.save(tracker)
        await message.output_channel.send_text_message(message.sender_id, "满99元包邮。")
        await message.output_channel.send_custom_json(message.sender_id, {"source": SOURCE})


class Api:
    """The channel's route handlers, called like Sanic calls them."""

    def __init__(self, api_keys=None) -> None:
        self.assistant = FakeAssistant()
        self.owners = InMemoryOwnerRegistry()
        self.channel = SdkInput(api_keys=api_keys or {}, max_message_chars=100, owners=self.owners)
        blueprint = self.channel.blueprint(self.assistant.handle)
        self.routes = {
            (route.uri, method): route.handler
            for route in blueprint._future_routes
            for method in route.methods
        }
        self.app = SimpleNamespace(ctx=SimpleNamespace(agent=self.assistant))

    async def call(
        self, method: str, uri: str, body=None, headers=None, **params
    ) -> tuple[int, dict, Header]:
        raw = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
        request = SimpleNamespace(body=raw, headers=Header(headers or {}), app=self.app, path=uri)
        answer = await self.routes[(uri, method)](request, **params)
        return answer.status, json.loads(answer.body), answer.headers

    async def create(self, body=None, headers=None) -> dict:
        status, data, _ = await self.call("POST", "/sessions", body or {}, headers)
        assert status == 201, data
        return data

    async def send(self, session_id: str, body, headers=None) -> tuple[int, dict]:
        status, data, _ = await self.call(
            "POST", "/sessions/<session_id:str>/messages", body, headers, session_id=session_id
        )
        return status, data


@pytest.fixture
def api() -> Api:
    return Api()


async def test_a_session_is_a_new_conversation_holding_its_details(api):
    session = await api.create({"user_id": "user_123", "channel": "web", "context": {"history": []}})
    assert len(session["session_id"]) == 32
    assert (session["user_id"], session["channel"], session["context"]) == (
        "user_123",
        "web",
        {"history": []},
    )
    tracker = await api.assistant.tracker_store.retrieve_full_tracker(session["session_id"])
    (metadata,) = [
        e.value for e in tracker.events if isinstance(e, SlotSet) and e.key == "session_started_metadata"
    ]
    assert metadata["sdk_session"]["user_id"] == "user_123"


async def test_a_message_gets_the_reply_intent_and_source(api):
    session = await api.create({"user_id": "user_123", "context": {"page": "cart"}})
    status, reply = await api.send(session["session_id"], {"text": "运费怎么算", "message_id": "m-1"})
    assert status == 200
    assert reply["messages"] == [{"text": "满99元包邮。"}, {"custom": {"source": SOURCE}}]
    assert reply["intent"] == {"name": "faq", "confidence": 0.9}
    assert reply["source"] == SOURCE
    assert (reply["session_id"], reply["message_id"], reply["replayed"]) == (
        session["session_id"],
        "m-1",
        False,
    )


async def test_the_assistant_gets_the_filter_the_session_and_the_token(api):
    session = await api.create({"user_id": "user_123", "channel": "app"})
    await api.send(
        session["session_id"],
        {
            "text": "查订单",
            "intent_filter": ["query_order"],
            "metadata": {"user_token": "eyJ.t", "sdk_session": "x"},
        },
    )
    (message,) = api.assistant.received
    assert message.sender_id == session["session_id"]
    assert message.input_channel == "sdk"
    assert message.metadata["intent_filter"] == ["query_order"]
    assert message.metadata["user_token"] == "eyJ.t"
    assert message.metadata["sdk_session"]["user_id"] == "user_123"  # not the client's "x"
    assert message.metadata["sdk_session"]["channel"] == "app"


async def test_a_repeated_message_id_is_answered_from_the_conversation(api):
    session = await api.create()
    _, first = await api.send(session["session_id"], {"text": "运费怎么算", "message_id": "retry-1"})
    _, again = await api.send(session["session_id"], {"text": "运费怎么算", "message_id": "retry-1"})
    assert len(api.assistant.received) == 1
    assert again["replayed"] is True
    assert (again["messages"], again["intent"], again["source"]) == (
        first["messages"],
        first["intent"],
        first["source"],
    )


async def test_empty_text_is_answered_politely_without_the_assistant(api):
    session = await api.create()
    status, reply = await api.send(session["session_id"], {"text": "   "})
    assert status == 200
    assert reply["messages"] == [{"text": EMPTY_MESSAGE_REPLY}]
    assert reply["intent"] is None
    assert api.assistant.received == []


async def test_unknown_sessions_are_404(api):
    status, reply = await api.send("no-such-session", {"text": "你好"})
    assert (status, reply["code"]) == (404, "not_found")
    status, reply, _ = await api.call("GET", "/sessions/<session_id:str>", session_id="no-such-session")
    assert status == 404


async def test_a_conversation_of_another_channel_is_not_a_session(api):
    tracker = await api.assistant.tracker_store.get_or_create_tracker("rest-user")
    tracker.update(UserUttered("你好", {"name": "greet", "confidence": 1.0}))
    await api.assistant.tracker_store.save(tracker)
    status, _ = await api.send("rest-user", {"text": "你好"})
    assert status == 404


async def test_a_session_forged_in_message_metadata_is_not_a_session(api):
    # Another client wrote an sdk_session of its own into a conversation it started elsewhere.
    forged = {"session_id": "rest-user", "app": "development", "user_id": "victim", "context": {}}
    tracker = await api.assistant.tracker_store.get_or_create_tracker("rest-user")
    tracker.update(SlotSet("session_started_metadata", {"sdk_session": forged}))
    tracker.update(
        UserUttered("你好", {"name": "greet", "confidence": 1.0}, metadata={"sdk_session": forged})
    )
    await api.assistant.tracker_store.save(tracker)

    status, _, _ = await api.call("GET", "/sessions/<session_id:str>", session_id="rest-user")
    assert status == 404
    assert (await api.send("rest-user", {"text": "你好"}))[0] == 404


async def test_the_owner_is_recorded_by_the_server(api):
    session = await api.create({"user_id": "user_123"})
    owner = await api.owners.get(session["session_id"])
    assert (owner.channel, owner.app, owner.key_hash) == ("sdk", "development", None)
    assert owner.session["user_id"] == "user_123"


async def test_oversized_metadata_is_413(api):
    session = await api.create()
    status, error = await api.send(session["session_id"], {"text": "你好", "metadata": {"a": "x" * 9000}})
    assert (status, error["code"]) == (413, "too_large")
    assert api.assistant.received == []


async def test_metadata_with_a_lone_surrogate_is_400(api):
    session = await api.create()
    raw = b'{"text": "hi", "metadata": {"a": "\\ud800"}}'
    status, error = await api.send(session["session_id"], raw)
    assert (status, error["code"]) == (400, "bad_request")


async def test_get_session(api):
    session = await api.create({"user_id": "u1"})
    status, found, _ = await api.call("GET", "/sessions/<session_id:str>", session_id=session["session_id"])
    assert status == 200
    assert found == session


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        {"text": 5},
        {},
        {"text": "hi", "intent_filter": "query_order"},
        {"text": "hi", "intent_filter": [""]},
        {"text": "hi", "metadata": "x"},
        {"text": "hi", "message_id": "has spaces"},
    ],
)
async def test_bad_message_bodies_are_400(api, body):
    session = await api.create()
    status, reply = await api.send(session["session_id"], body)
    assert status == 400
    assert reply["code"] == "bad_request" and reply["error"]
    assert api.assistant.received == []


@pytest.mark.parametrize("body", [b"{", {"user_id": 42}, {"channel": ""}, {"context": ["history"]}])
async def test_bad_session_bodies_are_400(api, body):
    status, reply, _ = await api.call("POST", "/sessions", body)
    assert status == 400 and reply["error"]


async def test_an_oversized_context_is_413(api):
    status, reply, _ = await api.call("POST", "/sessions", {"context": {"history": ["很长的记录" * 2000]}})
    assert (status, reply["code"]) == (413, "too_large")


async def test_a_failing_assistant_is_a_json_500(api):
    session = await api.create()
    api.assistant.fail = True
    status, reply = await api.send(session["session_id"], {"text": "你好"})
    assert (status, reply["code"]) == (500, "internal")


async def test_a_failing_tracker_store_is_a_json_500(api):
    async def broken(*args, **kwargs):
        raise ConnectionError("the database is down")

    api.assistant.processor.fetch_tracker_with_initial_session = broken
    status, reply, _ = await api.call("POST", "/sessions", {})
    assert (status, reply["code"]) == (500, "internal")


async def test_without_a_model_the_api_is_503():
    api = Api()
    api.app.ctx.agent = None
    status, reply, _ = await api.call("POST", "/sessions", {})
    assert (status, reply["code"]) == (503, "unavailable")


KEYS = {"key-shop-0123456789": "shop", "key-crm-0123456789": "crm"}


class TestApiKeys:
    async def test_a_configured_key_is_required(self):
        api = Api(KEYS)
        status, reply, headers = await api.call("POST", "/sessions", {})
        assert (status, reply["code"]) == (401, "unauthorized")
        assert headers["WWW-Authenticate"] == "Bearer"
        status, _, _ = await api.call("POST", "/sessions", {}, {"Authorization": "Bearer wrong"})
        assert status == 401

    async def test_bearer_or_x_api_key(self):
        api = Api(KEYS)
        await api.create(headers={"Authorization": "Bearer key-shop-0123456789"})
        await api.create(headers={"X-API-Key": "key-crm-0123456789"})

    async def test_a_session_belongs_to_the_application_that_created_it(self):
        api = Api(KEYS)
        session = await api.create(headers={"X-API-Key": "key-shop-0123456789"})
        status, _ = await api.send(
            session["session_id"], {"text": "你好"}, {"X-API-Key": "key-crm-0123456789"}
        )
        assert status == 404
        status, _ = await api.send(
            session["session_id"], {"text": "你好"}, {"X-API-Key": "key-shop-0123456789"}
        )
        assert status == 200

    async def test_with_no_keys_configured_any_key_or_none_is_accepted(self, api):
        await api.create(headers={"Authorization": "Bearer YOUR_API_KEY"})
        await api.create()


def test_application_of():
    assert application_of(None, {}) == "development"
    assert application_of("k1", {"k1": "shop"}) == "shop"
    with pytest.raises(ApiError):
        application_of("k2", {"k1": "shop"})


def test_production_refuses_an_open_sdk_api(monkeypatch):
    from kefu import settings

    monkeypatch.setenv("KEFU_ENV", "production")
    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", "3f9c1a7e5b2d48c0a6e1f7b39d2c5a804e6b1f3a")
    monkeypatch.setenv("KEFU_ENCRYPTION_KEYS", "k1:BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY=")
    monkeypatch.setenv("DASHBOARD_ADMIN_TOKEN", "8b1e4d7a2c9f3e6b0a5d8c1f4e7b2a9d")
    monkeypatch.setenv("ACTION_SERVER_SECRET", "c4a81f6e3b9d2057e1a4c8f3b6d90e2a")
    monkeypatch.delenv("ADMIN_BOOTSTRAP_PASSWORD", raising=False)
    monkeypatch.delenv("SDK_API_KEYS", raising=False)
    settings.get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="SDK_API_KEYS"):
            SdkInput()
        monkeypatch.setenv("SDK_API_KEYS", "shop:5e2b8d1a4f7c0e3b6a9d2c5f8e1b4a7d")
        settings.get_settings.cache_clear()
        assert SdkInput().api_keys == {"5e2b8d1a4f7c0e3b6a9d2c5f8e1b4a7d": "shop"}
    finally:
        settings.get_settings.cache_clear()


@pytest.mark.parametrize(
    ("raw", "keys"),
    [
        ("", {}),
        ("shop:k1, crm:k2", {"k1": "shop", "k2": "crm"}),
        ("k1", {"k1": "app-1"}),
        ("shop:k1,,", {"k1": "shop"}),
    ],
)
def test_the_sdk_api_keys_setting(monkeypatch, raw, keys):
    from kefu.settings import load_settings

    monkeypatch.setenv("SDK_API_KEYS", raw)
    assert load_settings().sdk_api_keys == keys


@pytest.mark.parametrize("raw", ["shop:", "shop:k1,crm:k1", "shop:has space"])
def test_malformed_sdk_api_keys_fail_fast(monkeypatch, raw):
    from kefu.settings import load_settings

    monkeypatch.setenv("SDK_API_KEYS", raw)
    with pytest.raises(SettingsError, match="SDK_API_KEYS"):
        load_settings()


def test_parsers_default_what_is_left_out():
    assert parse_session_body(b"").channel == "api"
    message = parse_message_body(b'{"text": "hi", "intent_filter": []}')
    assert message.intent_filter is None
    assert len(message.message_id) == 32


def test_logged_bot_messages_are_split_like_the_channel_sent_them():
    assert bot_messages(BotUttered("第一段\n\n第二段", {"custom": {"source": SOURCE}, "buttons": None})) == [
        {"text": "第一段"},
        {"text": "第二段"},
        {"custom": {"source": SOURCE}},
    ]
    buttons = [{"title": "确认", "payload": "/affirm"}]
    assert bot_messages(BotUttered("确认吗？", {"buttons": buttons})) == [
        {"text": "确认吗？", "buttons": buttons}
    ]


# ---- rate limits ---------------------------------------------------------------------------------
def limited_api(**limits) -> Api:
    from kefu.security.ratelimit import InMemoryRateLimiter

    api = Api.__new__(Api)
    api.assistant = FakeAssistant()
    api.channel = SdkInput(
        api_keys={"key-a": "shop-a", "key-b": "shop-b"},
        max_message_chars=100,
        limiter=InMemoryRateLimiter(),
        **limits,
    )
    blueprint = api.channel.blueprint(api.assistant.handle)
    api.routes = {(r.uri, m): r.handler for r in blueprint._future_routes for m in r.methods}
    api.app = SimpleNamespace(ctx=SimpleNamespace(agent=api.assistant))
    return api


async def test_requests_are_limited_per_api_key_with_retry_after():
    api = limited_api(rate_per_minute=3, chat_rate_per_minute=100)
    key_a, key_b = {"X-API-Key": "key-a"}, {"X-API-Key": "key-b"}
    session = await api.create({}, key_a)
    assert (await api.send(session["session_id"], {"text": "运费"}, key_a))[0] == 200
    assert (
        await api.call("GET", "/sessions/<session_id:str>", None, key_a, session_id=session["session_id"])
    )[0] == 200
    status, body, headers = await api.call("POST", "/sessions", {}, key_a)
    assert status == 429 and body["code"] == "rate_limited" and 1 <= int(headers["Retry-After"]) <= 60
    assert (await api.call("POST", "/sessions", {}, key_b))[0] == 201  # another application's own budget


async def test_messages_are_limited_per_session():
    api = limited_api(rate_per_minute=100, chat_rate_per_minute=2)
    key = {"Authorization": "Bearer key-a"}
    first, second = await api.create({}, key), await api.create({}, key)
    for _ in range(2):
        assert (await api.send(first["session_id"], {"text": "运费"}, key))[0] == 200
    status, body = await api.send(first["session_id"], {"text": "运费"}, key)
    assert status == 429 and "Too many requests" in body["error"]
    assert (await api.send(second["session_id"], {"text": "运费"}, key))[0] == 200
    assert len(api.assistant.received) == 3  # the refused message never reached the assistant
