import logging
from collections import defaultdict
from dataclasses import replace
from types import SimpleNamespace

import jwt
import pytest
from rasa.core.channels.channel import UserMessage

from kefu.channels import socketio as socketio_channel
from kefu.channels.message_guard import (
    EMPTY_MESSAGE_REPLY,
    FAILURE_REPLY,
    TOO_LONG_MESSAGE_REPLY,
    UNREADABLE_MESSAGE_REPLY,
)
from kefu.channels.socketio import (
    SocketIOEvents,
    SocketIOInput,
    SocketIOOutput,
    metadata_from,
    session_id_from,
)
from kefu.channels.socketio_events import METADATA_REFUSED_REPLY, SESSION_REFUSED_REPLY
from kefu.security.conversation_access import InMemoryOwnerRegistry
from kefu.security.tokens import issue_customer_token
from kefu.settings import Settings

SECRET = "jwt-secret-of-the-socketio-unit-tests"


class FakeSocketServer:
    """The part of python-socketio's AsyncServer the channel uses, recording what it is asked."""

    def __init__(self):
        self.emitted = []
        self.rooms = defaultdict(set)
        self.sessions = defaultdict(dict)

    async def emit(self, event, data=None, to=None, room=None, skip_sid=None, namespace=None):
        self.emitted.append((event, data, room, namespace))

    async def enter_room(self, sid, room, namespace=None):
        self.rooms[sid].add((room, namespace))

    async def leave_room(self, sid, room, namespace=None):
        self.rooms[sid].discard((room, namespace))

    async def get_session(self, sid, namespace=None):
        return dict(self.sessions[sid, namespace])

    async def save_session(self, sid, session, namespace=None):
        self.sessions[sid, namespace] = session


class Recorder:
    """An on_new_message callback that records the messages it gets."""

    def __init__(self, error=None):
        self.messages = []
        self.error = error

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        if self.error:
            raise self.error


@pytest.fixture
def sio():
    return FakeSocketServer()


@pytest.fixture
def assistant():
    return Recorder()


def events(sio, assistant, exists=None, **channel):
    channel.setdefault("session_persistence", True)
    channel.setdefault("max_message_chars", 20)
    channel.setdefault("owners", InMemoryOwnerRegistry())
    return SocketIOEvents(SocketIOInput(**channel), sio, assistant, exists)


def replies(sio):
    return [(data, room) for event, data, room, _ in sio.emitted if event == "bot_uttered"]


def without_keys(sio):
    """What was emitted besides the ``session_key`` events handing out new sessions' keys."""
    return [emitted for emitted in sio.emitted if emitted[0] != "session_key"]


def issued_keys(sio):
    return {
        data["session_id"]: data["session_key"] for event, data, *_ in sio.emitted if event == "session_key"
    }


def test_keeps_rasas_channel_name_and_url():
    channel = SocketIOInput(max_message_chars=10)
    assert (channel.name(), channel.url_prefix()) == ("socketio", "socketio")


def test_rasas_from_credentials_builds_this_channel_with_the_settings_limit(monkeypatch):
    monkeypatch.setattr(socketio_channel, "get_settings", lambda: Settings(max_message_chars=42))
    channel = SocketIOInput.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
    )
    assert type(channel) is SocketIOInput
    assert (channel.session_persistence, channel.max_message_chars, channel.socketio_path) == (
        True,
        42,
        "/socket.io",
    )


@pytest.mark.parametrize("limit", [0, -1])
def test_refuses_an_unusable_message_limit(limit):
    with pytest.raises(ValueError, match="MAX_MESSAGE_CHARS"):
        SocketIOInput(max_message_chars=limit)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"session_id": "abc"}, "abc"),
        ({"session_id": "x" * 255}, "x" * 255),
        ({"session_id": "x" * 256}, None),
        ({"session_id": ""}, None),
        ({"session_id": "  "}, None),
        ({"session_id": 12}, None),
        ({"session_id": None}, None),
        ({}, None),
        ("abc", None),
        (None, None),
        (["abc"], None),
    ],
)
def test_session_id_from(data, expected):
    assert session_id_from(data) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"user_token": "t"}, {"user_token": "t"}),
        ('{"user_token": "t"}', {"user_token": "t"}),
        (None, {}),
        ("{not json", {}),
        ("[1, 2]", {}),
        ("42", {}),
        ("[" * 100_000, {}),
        (["user_token"], {}),
        (7, {}),
    ],
)
def test_metadata_from(value, expected):
    assert metadata_from(value) == expected


async def test_session_request_joins_the_room_and_confirms(sio, assistant):
    await events(sio, assistant).session_request("sid-1", {"session_id": "session-a"})

    assert sio.rooms["sid-1"] == {("session-a", None)}
    assert without_keys(sio) == [("session_confirm", "session-a", "sid-1", None)]
    assert list(issued_keys(sio)) == ["session-a"]  # a new session: its key goes to this socket only
    assert sio.emitted[0][2] == "sid-1"


@pytest.mark.parametrize("data", [None, "session-a", ["session-a"], {"session_id": 5}, {"other": 1}])
async def test_session_request_without_a_usable_id_gets_a_new_one(sio, assistant, data):
    await events(sio, assistant).session_request("sid-1", data)

    ((event, session_id, room, _),) = without_keys(sio)
    assert (event, room, len(session_id)) == ("session_confirm", "sid-1", 32)
    assert list(issued_keys(sio)) == [session_id]
    assert sio.rooms["sid-1"] == {(session_id, None)}


async def test_a_new_session_request_leaves_the_previous_room(sio, assistant):
    handlers = events(sio, assistant)
    await handlers.session_request("sid-1", {"session_id": "session-a"})
    await handlers.session_request("sid-1", {"session_id": "session-b"})

    assert sio.rooms["sid-1"] == {("session-b", None)}


async def test_without_persistence_a_session_request_is_only_confirmed(sio, assistant):
    await events(sio, assistant, session_persistence=False).session_request("sid-1", {"session_id": "s"})

    assert sio.rooms == {}
    assert sio.emitted == [("session_confirm", "s", "sid-1", None)]


async def test_message_goes_to_the_assistant_with_its_session_and_metadata(sio, assistant):
    await events(sio, assistant).user_message(
        "sid-1", {"message": "你好", "session_id": "session-a", "metadata": {"user_token": "t"}}
    )

    (message,) = assistant.messages
    assert (message.text, message.sender_id, message.input_channel, message.metadata) == (
        "你好",
        "session-a",
        "socketio",
        {"user_token": "t"},
    )
    assert isinstance(message.output_channel, SocketIOOutput)
    assert sio.rooms["sid-1"] == {("session-a", None)}  # replies to the session reach this socket


async def test_message_without_session_id_uses_the_requested_session(sio, assistant):
    handlers = events(sio, assistant)
    await handlers.session_request("sid-1", {"session_id": "session-a"})
    await handlers.user_message("sid-1", {"message": "你好"})
    await handlers.user_message("sid-1", {"message": "你好", "session_id": "session-a"})

    assert [m.sender_id for m in assistant.messages] == ["session-a", "session-a"]


async def test_message_without_any_session_is_ignored(sio, assistant, caplog):
    await events(sio, assistant).user_message("sid-1", {"message": "你好"})

    assert assistant.messages == []
    assert sio.emitted == []
    assert "without a valid session_id" in caplog.text


async def test_without_persistence_the_socket_is_the_conversation(sio, assistant):
    await events(sio, assistant, session_persistence=False).user_message("sid-1", {"message": "你好"})

    assert [m.sender_id for m in assistant.messages] == ["sid-1"]


@pytest.mark.parametrize(
    "data",
    [None, "你好", ["你好"], 42, {"message": 42, "session_id": "s"}, {"message": ["hi"], "session_id": "s"}],
)
async def test_malformed_message_is_ignored(sio, assistant, data, caplog):
    await events(sio, assistant).user_message("sid-1", data)

    assert assistant.messages == []
    assert sio.emitted == []
    assert "Ignored a message" in caplog.text


@pytest.mark.parametrize("text", [None, "", "   ", "\u200b"])
async def test_empty_message_gets_the_polite_reply_instead_of_the_assistant(sio, assistant, text):
    await events(sio, assistant).user_message("sid-1", {"message": text, "session_id": "session-a"})

    assert assistant.messages == []
    assert replies(sio) == [({"text": EMPTY_MESSAGE_REPLY}, "session-a")]


async def test_long_message_gets_the_polite_reply_instead_of_the_assistant(sio, assistant):
    await events(sio, assistant, max_message_chars=5).user_message(
        "sid-1", {"message": "退" * 6, "session_id": "session-a"}
    )

    assert assistant.messages == []
    assert replies(sio) == [({"text": TOO_LONG_MESSAGE_REPLY.format(max_chars=5)}, "session-a")]


async def test_garbage_metadata_is_ignored_and_the_message_still_handled(sio, assistant):
    await events(sio, assistant).user_message(
        "sid-1", {"message": "你好", "session_id": "session-a", "metadata": "{not json"}
    )

    assert [m.metadata for m in assistant.messages] == [{}]


async def test_a_failing_assistant_is_logged_not_raised(sio, caplog):
    failing = Recorder(error=RuntimeError("model exploded"))

    await events(sio, failing).user_message("sid-1", {"message": "你好", "session_id": "session-a"})

    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "model exploded" in caplog.text
    assert without_keys(sio) == [("bot_uttered", {"text": FAILURE_REPLY}, "sid-1", None)]


async def test_events_use_the_channels_namespace(sio, assistant):
    handlers = events(sio, assistant, namespace="/kefu")
    await handlers.session_request("sid-1", {"session_id": "session-a"})
    await handlers.user_message("sid-1", {"message": "  ", "session_id": "session-a"})

    assert sio.rooms["sid-1"] == {("session-a", "/kefu")}
    assert {namespace for *_, namespace in sio.emitted} == {"/kefu"}


async def test_connect_without_jwt_key_accepts_anyone(sio, assistant):
    assert await events(sio, assistant).connect("sid-1", {}, None) is True


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "token",
        ["token"],
        {},
        {"token": 5},
        {"token": "not-a-jwt"},
        {"token": jwt.encode({"sub": "u1"}, "another-secret-of-at-least-32-bytes")},
    ],
)
async def test_connect_with_jwt_key_refuses_without_a_valid_token(sio, assistant, auth, caplog):
    assert await events(sio, assistant, jwt_key=SECRET).connect("sid-1", {}, auth) is False
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("prefix", ["", "Bearer "])
async def test_connect_with_jwt_key_accepts_a_valid_token(sio, assistant, prefix):
    token = prefix + jwt.encode({"sub": "u1"}, SECRET)
    assert await events(sio, assistant, jwt_key=SECRET).connect("sid-1", {}, {"token": token}) is True


async def test_output_splits_paragraphs_like_rasa(sio):
    await SocketIOOutput(sio, "bot_uttered", "/kefu").send_text_message("session-a", "第一段\n\n第二段")

    assert sio.emitted == [
        ("bot_uttered", {"text": "第一段"}, "session-a", "/kefu"),
        ("bot_uttered", {"text": "第二段"}, "session-a", "/kefu"),
    ]


async def test_output_sends_a_custom_payload_as_the_message(sio):
    await SocketIOOutput(sio, "bot_uttered").send_custom_json("session-a", {"card": {"order": "LT1"}})

    assert sio.emitted == [("bot_uttered", {"card": {"order": "LT1"}}, "session-a", None)]


async def test_output_keeps_rasas_convention_for_payloads_made_of_emit_arguments(sio):
    await SocketIOOutput(sio, "bot_uttered").send_custom_json("session-a", {"data": {"card": 1}})

    assert sio.emitted == [("bot_uttered", {"card": 1}, "session-a", None)]


def test_output_channel_for_rasas_own_messages_needs_the_blueprint(assistant):
    channel = SocketIOInput(namespace="/kefu", max_message_chars=10)
    with pytest.warns(UserWarning, match="cannot be recreated"):
        assert channel.get_output_channel() is None

    channel.blueprint(assistant)
    output = channel.get_output_channel()

    assert isinstance(output, SocketIOOutput)
    assert (output.sio, output.namespace) == (channel.sio, "/kefu")


def test_blueprint_registers_the_events_in_the_namespace(assistant):
    channel = SocketIOInput(namespace="/kefu", user_message_evt="said", max_message_chars=10)

    blueprint = channel.blueprint(assistant)

    assert blueprint.name == "socketio_webhook"
    assert set(channel.sio.handlers["/kefu"]) == {"connect", "disconnect", "session_request", "said"}


# ---- connections per client address --------------------------------------------------------------
async def test_connections_are_limited_per_client_address(sio, assistant):
    from socketio.exceptions import ConnectionRefusedError

    from kefu.security.ratelimit import InMemoryRateLimiter

    handlers = events(sio, assistant)
    handlers.channel.limiter = InMemoryRateLimiter()
    handlers.channel.connect_rate_per_minute = 2

    def environ(ip):
        return {"sanic.request": SimpleNamespace(remote_addr="", ip=ip)}

    assert await handlers.connect("sid-1", environ("10.1.1.1")) is True
    assert await handlers.connect("sid-2", environ("10.1.1.1")) is True
    with pytest.raises(ConnectionRefusedError) as refused:
        await handlers.connect("sid-3", environ("10.1.1.1"))
    assert 1 <= refused.value.error_args["data"]["retry_after"] <= 60
    assert await handlers.connect("sid-4", environ("10.2.2.2")) is True
    assert sio.sessions["sid-4", None] == {"ip": "10.2.2.2"}  # the chat limit's per-address share


async def test_messages_count_against_the_client_address(sio, assistant):
    from kefu.security.ratelimit import IP_SHARE, InMemoryRateLimiter

    handlers = events(sio, assistant)
    handlers.channel.limiter = InMemoryRateLimiter()
    handlers.channel.rate_per_minute = 1  # per session; the address gets IP_SHARE sessions' worth
    await handlers.connect("sid-1", {"sanic.request": SimpleNamespace(remote_addr="10.3.3.3", ip="")})
    for number in range(IP_SHARE + 1):
        await handlers.user_message("sid-1", {"message": "运费", "session_id": f"s-{number}"})
    assert len(assistant.messages) == IP_SHARE
    assert "太快" in replies(sio)[-1][0]["text"]


# ---- who may join a session ----------------------------------------------------------------------
async def test_a_second_client_naming_the_victims_session_gets_a_new_one(sio, assistant):
    handlers = events(sio, assistant)
    await handlers.session_request("victim", {"session_id": "session-a"})
    sio.emitted.clear()

    await handlers.session_request("attacker", {"session_id": "session-a"})

    ((event, session_id, room, _),) = without_keys(sio)
    assert (event, room) == ("session_confirm", "attacker") and session_id != "session-a"
    assert sio.rooms["attacker"] == {(session_id, None)}
    assert "session-a" not in issued_keys(sio)


async def test_a_wrong_key_does_not_join_either(sio, assistant):
    handlers = events(sio, assistant)
    await handlers.session_request("victim", {"session_id": "session-a"})

    await handlers.session_request("attacker", {"session_id": "session-a", "session_key": "guess"})

    assert ("session-a", None) not in sio.rooms["attacker"]


async def test_the_owner_rejoins_with_its_key(sio, assistant):
    handlers = events(sio, assistant)
    await handlers.session_request("sid-1", {"session_id": "session-a"})
    key = issued_keys(sio)["session-a"]
    sio.emitted.clear()

    await handlers.session_request("sid-2", {"session_id": "session-a", "session_key": key})
    await handlers.user_message("sid-2", {"message": "你好", "session_id": "session-a"})

    assert without_keys(sio)[0] == ("session_confirm", "session-a", "sid-2", None)
    assert issued_keys(sio) == {}  # the key is handed out once, when the session opens
    assert [m.sender_id for m in assistant.messages] == ["session-a"]


async def test_a_message_naming_someone_elses_session_is_refused(sio, assistant):
    handlers = events(sio, assistant)
    await handlers.session_request("victim", {"session_id": "session-a"})
    await handlers.session_request("attacker", {"session_id": "session-b"})
    sio.emitted.clear()

    await handlers.user_message("attacker", {"message": "我的订单", "session_id": "session-a"})

    assert assistant.messages == []
    assert replies(sio) == [({"text": SESSION_REFUSED_REPLY}, "attacker")]
    assert ("session-a", None) not in sio.rooms["attacker"]


async def test_a_customer_rejoins_the_session_opened_with_their_token(sio, assistant):
    secret = "customer-token-secret-of-the-socketio-tests-0123"
    handlers = events(sio, assistant)
    handlers.channel.settings = replace(handlers.channel.settings, customer_token_secret=secret)
    alice, bob = issue_customer_token("u1", secret), issue_customer_token("u2", secret)
    await handlers.session_request("sid-1", {"session_id": "session-a", "user_token": alice})

    await handlers.session_request("sid-2", {"session_id": "session-a", "user_token": alice})
    await handlers.session_request("sid-3", {"session_id": "session-a", "user_token": bob})

    assert ("session-a", None) in sio.rooms["sid-2"]
    assert ("session-a", None) not in sio.rooms["sid-3"]


async def test_a_conversation_started_before_owners_were_recorded_is_not_taken_over(sio, assistant):
    async def exists(conversation_id):
        return conversation_id == "old-session"

    handlers = events(sio, assistant, exists=exists)
    await handlers.user_message("sid-1", {"message": "你好", "session_id": "old-session"})

    assert assistant.messages == []
    assert replies(sio) == [({"text": SESSION_REFUSED_REPLY}, "sid-1")]


async def test_metadata_loses_the_reserved_keys(sio, assistant):
    forged = {
        "user_token": "t",
        "sdk_session": {"app": "other"},
        "admin_session": {"owner": "boss"},
        "client_ip": "203.0.113.9",  # the verification lock-out counts the server's view of it
    }
    await events(sio, assistant).user_message(
        "sid-1", {"message": "你好", "session_id": "session-a", "metadata": forged}
    )

    [metadata] = [m.metadata for m in assistant.messages]
    assert metadata.pop("client_ip", None) != "203.0.113.9"
    assert metadata == {"user_token": "t"}


async def test_oversized_metadata_is_answered_politely_without_the_assistant(sio, assistant, caplog):
    huge = {"blob": "x" * (Settings().max_metadata_bytes + 1)}
    await events(sio, assistant).user_message(
        "sid-1", {"message": "你好", "session_id": "session-a", "metadata": huge}
    )

    assert assistant.messages == []
    assert replies(sio) == [({"text": METADATA_REFUSED_REPLY}, "session-a")]
    assert "Traceback" not in caplog.text


async def test_a_lone_surrogate_is_answered_politely_without_a_traceback(sio, assistant, caplog):
    await events(sio, assistant).user_message("sid-1", {"message": "你好\ud800", "session_id": "session-a"})

    assert assistant.messages == []
    assert replies(sio) == [({"text": UNREADABLE_MESSAGE_REPLY}, "session-a")]
    assert not [r for r in caplog.records if r.exc_info]


def test_the_server_checks_origins_and_bounds_event_size(assistant):
    channel = SocketIOInput(max_message_chars=10)
    channel.allowed_origins = ("https://shop.example.com",)
    channel.max_body_bytes = 4096

    channel.blueprint(assistant)

    assert channel.sio.eio.max_http_buffer_size == 4096
    allowed = channel.sio.eio.cors_allowed_origins
    environ = {"HTTP_HOST": "kefu.example.com", "wsgi.url_scheme": "https"}
    assert allowed("https://kefu.example.com", environ)  # the pages the assistant serves
    assert allowed("https://shop.example.com", environ)
    assert allowed(None, environ)  # apps, not browsers, send no Origin
    assert not allowed("https://evil.example.net", environ)
    assert not allowed("http://kefu.example.com", environ)  # another scheme is another origin
