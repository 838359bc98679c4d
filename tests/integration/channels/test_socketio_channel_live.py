"""The socket.io channel on a real Sanic server, talked to by real python-socketio clients."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import jwt
import pytest
import socketio
from rasa.core.channels.socketio import SocketIOInput as StockSocketIOInput

from kefu.channels.message_guard import EMPTY_MESSAGE_REPLY, TOO_LONG_MESSAGE_REPLY
from kefu.channels.socketio import SocketIOInput
from kefu.channels.socketio_events import SESSION_REFUSED_REPLY
from tests.integration.channels.conftest import ChatClient

pytestmark = pytest.mark.integration


SECRET = "jwt-secret-of-the-socketio-channel-tests"


def persistent_channel(**kwargs: Any) -> SocketIOInput:
    return SocketIOInput(session_persistence=True, **kwargs)


async def first_exchange(live: Any, url: str, **connect: Any) -> Any:
    """Session request, confirmation, one message; returns the client after checking the confirmation."""
    client = await live.connect(url, **connect)
    assert await client.request_session("session-a") == "session-a"
    await client.say("你好", "session-a")
    return client


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_reply_reaches_the_persistent_session(
    live: Any, websocket_client: None, transport: str
) -> None:
    url = await live.start(persistent_channel())

    client = await first_exchange(live, url, transports=(transport,))

    assert await client.reply() == {"text": "收到：你好"}
    (message,) = live.assistant.messages
    assert (message.sender_id, message.text, message.input_channel) == ("session-a", "你好", "socketio")


@pytest.mark.filterwarnings("ignore:coroutine 'AsyncServer.enter_room' was never awaited:RuntimeWarning")
async def test_stock_channel_loses_every_reply_with_session_persistence(live: Any) -> None:
    """Documents the defect this channel exists for: Rasa 3.6.21 never awaits ``enter_room``."""
    url = await live.start(StockSocketIOInput(session_persistence=True))

    client = await first_exchange(live, url)

    assert await client.silent_for(1.0)
    assert [m.sender_id for m in live.assistant.messages] == ["session-a"]  # it did answer, to an empty room


async def test_stock_channel_replies_without_session_persistence(live: Any) -> None:
    """The control for the test above: without persistence replies go to the socket and arrive."""
    url = await live.start(StockSocketIOInput(session_persistence=False))

    client = await first_exchange(live, url)

    assert await client.reply() == {"text": "收到：你好"}


async def test_reconnecting_client_rejoins_its_conversation(live: Any, websocket_client: None) -> None:
    url = await live.start(persistent_channel())
    client = await first_exchange(live, url, transports=("websocket",))
    assert await client.reply() == {"text": "收到：你好"}
    first_socket = client.sio.get_sid()

    await client.disconnect()
    await client.connect(transports=("websocket",))
    assert client.sio.get_sid() != first_socket
    assert await client.request_session("session-a") == "session-a"
    await client.say("我的订单呢", "session-a")

    assert await client.reply() == {"text": "收到：我的订单呢"}
    assert [m.sender_id for m in live.assistant.messages] == ["session-a", "session-a"]


async def test_a_new_page_with_the_stored_session_id_continues_the_conversation(live: Any) -> None:
    url = await live.start(persistent_channel())
    old_page = await first_exchange(live, url)
    assert await old_page.reply() == {"text": "收到：你好"}

    new_page = await live.connect(url)
    new_page.keys = dict(old_page.keys)  # the page's storage keeps the session id and its key
    assert await new_page.request_session("session-a") == "session-a"
    await new_page.say("还在吗", "session-a")

    assert await new_page.reply() == {"text": "收到：还在吗"}
    assert [m.sender_id for m in live.assistant.messages] == ["session-a", "session-a"]


async def test_message_without_session_id_belongs_to_the_requested_session(live: Any) -> None:
    url = await live.start(persistent_channel())
    client = await live.connect(url)
    await client.request_session("session-a")

    await client.say("你好", None)

    assert await client.reply() == {"text": "收到：你好"}
    assert live.assistant.messages[0].sender_id == "session-a"


async def test_session_request_without_an_id_gets_a_new_one(live: Any) -> None:
    url = await live.start(persistent_channel())
    client = await live.connect(url)

    session_id = await client.request_session(None)
    await client.say("你好", session_id)

    assert len(session_id) == 32
    assert await client.reply() == {"text": "收到：你好"}


async def test_two_sessions_do_not_see_each_others_replies(live: Any) -> None:
    url = await live.start(persistent_channel())
    alice = await live.connect(url)
    bob = await live.connect(url)
    await alice.request_session("alice")
    await bob.request_session("bob")

    await alice.say("我是 Alice", "alice")
    assert await alice.reply() == {"text": "收到：我是 Alice"}
    await bob.say("我是 Bob", "bob")
    assert await bob.reply() == {"text": "收到：我是 Bob"}

    assert await alice.silent_for()
    assert await bob.silent_for()


@pytest.mark.parametrize(
    "metadata",
    [{"user_token": "tok-1"}, '{"user_token": "tok-1"}'],
    ids=["object", "json-string"],
)
async def test_metadata_reaches_the_assistant(live: Any, metadata: Any) -> None:
    url = await live.start(persistent_channel())
    client = await live.connect(url)
    await client.request_session("session-a")

    await client.say("查订单", "session-a", metadata=metadata)

    assert await client.reply() == {"text": "收到：查订单"}
    # client_ip: the address the server saw, for the verification lock-out (never the client's own)
    assert live.assistant.messages[0].metadata == {"user_token": "tok-1", "client_ip": "127.0.0.1"}


@pytest.mark.parametrize("text", ["", "   ", "\u3000\n", "\u200b", None])
async def test_empty_message_is_answered_without_the_assistant(live: Any, text: Any) -> None:
    url = await live.start(persistent_channel())
    client = await live.connect(url)
    await client.request_session("session-a")

    await client.say(text, "session-a")

    assert await client.reply() == {"text": EMPTY_MESSAGE_REPLY}
    assert live.assistant.messages == []


async def test_long_message_is_answered_without_the_assistant(live: Any) -> None:
    url = await live.start(persistent_channel(max_message_chars=20))
    client = await live.connect(url)
    await client.request_session("session-a")

    await client.say("长" * 21, "session-a")
    assert await client.reply() == {"text": TOO_LONG_MESSAGE_REPLY.format(max_chars=20)}
    await client.say("长" * 20, "session-a")
    assert await client.reply() == {"text": "收到：" + "长" * 20}

    assert [m.text for m in live.assistant.messages] == ["长" * 20]


async def test_hostile_payloads_never_break_the_server(live: Any, caplog: pytest.LogCaptureFixture) -> None:
    url = await live.start(persistent_channel(max_message_chars=1000))
    client = await live.connect(url)
    await client.request_session("session-a")

    for junk in ("just a string", [1, 2], 42, True, {"message": {"x": 1}, "session_id": "session-a"}):
        await client.emit("user_uttered", junk)
    await client.emit("user_uttered")  # no data at all
    await client.emit("user_uttered", "a", "b")  # two arguments
    for junk in ("not a dict", [None], {"session_id": 12}, {"session_id": "x" * 300}):
        await client.emit("session_request", junk)
        assert len(await client.confirmations.get()) == 32  # a fresh id instead of the junk one
    await client.request_session("session-a")
    assert await client.silent_for()

    answered = {
        "<script>alert('hi')</script><b>粗体</b>": "收到：<script>alert('hi')</script><b>粗体</b>",
        "😀🎉👍": "收到：😀🎉👍",
        "x" * 20_000: TOO_LONG_MESSAGE_REPLY.format(max_chars=1000),
    }
    for text, expected in answered.items():
        await client.say(text, "session-a", metadata="{not json")
        assert await client.reply() == {"text": expected}

    assert [m.metadata for m in live.assistant.messages] == [{"client_ip": "127.0.0.1"}] * 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_payload_over_the_transport_limit_drops_only_that_client(live: Any) -> None:
    url = await live.start(persistent_channel())
    hostile = await live.connect(url)
    customer = await live.connect(url)
    await hostile.request_session("hostile")
    await customer.request_session("customer")

    await hostile.say("x" * 1_200_000, "hostile")  # over engineio's 1 MB packet limit
    await customer.say("你好", "customer")

    assert await customer.reply() == {"text": "收到：你好"}
    assert [m.sender_id for m in live.assistant.messages] == ["customer"]


async def test_namespace_is_used_for_events_and_replies(live: Any) -> None:
    url = await live.start(persistent_channel(namespace="/kefu"))
    client = await live.connect(url, namespace="/kefu")

    assert await client.request_session("session-a") == "session-a"
    await client.say("你好", "session-a")

    assert await client.reply() == {"text": "收到：你好"}


async def test_jwt_key_refuses_clients_without_a_valid_token(live: Any, websocket_client: None) -> None:
    url = await live.start(persistent_channel(jwt_key=SECRET))

    # Over websocket: a refused polling client waits for the server's next ping (25 s) to hang up.
    wrong_key = jwt.encode({"sub": "u1"}, "another-secret-of-at-least-32-bytes")
    for auth in (None, {"token": "not-a-jwt"}, {"token": wrong_key}):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await live.connect(url, auth=auth, transports=("websocket",))

    client = await live.connect(url, auth={"token": jwt.encode({"sub": "u1"}, SECRET)})
    await client.request_session("session-a")
    await client.say("你好", "session-a")
    assert await client.reply() == {"text": "收到：你好"}


async def test_health_route(live: Any) -> None:
    url = await live.start(persistent_channel())

    async with aiohttp.ClientSession() as http, http.get(f"{url}/webhooks/socketio/") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})


# ---- who may join a session, from where ----------------------------------------------------------
async def test_a_second_client_cannot_join_the_victims_session(live: Any) -> None:
    url = await live.start(persistent_channel())
    victim = await first_exchange(live, url)
    assert await victim.reply() == {"text": "收到：你好"}

    attacker = await live.connect(url)
    joined = await attacker.request_session("session-a")
    await attacker.say("我的订单到哪了", "session-a")
    await victim.say("我的手机号", "session-a")

    assert joined != "session-a"
    assert await victim.reply() == {"text": "收到：我的手机号"}
    assert await attacker.reply() == {"text": SESSION_REFUSED_REPLY}
    assert await attacker.silent_for()  # the victim's reply never reached the attacker
    assert [m.text for m in live.assistant.messages] == ["你好", "我的手机号"]


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("https://evil.example.net", False), ("https://shop.example.com", True), (None, True)],
)
async def test_browsers_connect_only_from_allowed_origins(live: Any, origin: Any, allowed: bool) -> None:
    channel = persistent_channel()
    channel.allowed_origins = ("https://shop.example.com",)
    url = await live.start(channel)
    client = ChatClient(url)
    live._clients.append(client)
    headers = {"Origin": origin} if origin else {}

    if allowed:
        await client.sio.connect(url, headers=headers, transports=["polling"], socketio_path="/socket.io")
        assert client.sio.connected
    else:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.sio.connect(url, headers=headers, transports=["polling"], socketio_path="/socket.io")


async def test_the_served_pages_own_origin_may_connect(live: Any) -> None:
    url = await live.start(persistent_channel())
    client = ChatClient(url)
    live._clients.append(client)

    await client.sio.connect(url, headers={"Origin": url}, transports=["polling"], socketio_path="/socket.io")

    assert client.sio.connected
