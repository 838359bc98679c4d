"""The assistant over socket.io with session persistence, with a real python-socketio client."""

import asyncio
import uuid

import pytest
import socketio

pytestmark = pytest.mark.e2e


class Chat:
    """A socket.io customer: joins a session and collects the bot's replies."""

    def __init__(self, url: str, session_id: str, keys: dict | None = None) -> None:
        self.url = url
        self.session_id = session_id
        # The keys of the sessions this customer opened (the web page keeps them in localStorage).
        self.keys = {} if keys is None else keys
        self.client = socketio.AsyncClient(reconnection=False)
        self.replies: asyncio.Queue = asyncio.Queue()
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", self.confirmed.put)
        self.client.on(
            "session_key", lambda data: self.keys.update({data["session_id"]: data["session_key"]})
        )

    async def __aenter__(self) -> "Chat":
        # Long-polling: python-engineio 4.15's websocket client needs aiohttp >= 3.10, and Rasa 3.6
        # pins aiohttp 3.9; the browser test covers the websocket transport.
        await self.client.connect(self.url, socketio_path="/socket.io", transports=["polling"])
        request = {"session_id": self.session_id}
        if self.session_id in self.keys:
            request["session_key"] = self.keys[self.session_id]
        await self.client.emit("session_request", request)
        assert await asyncio.wait_for(self.confirmed.get(), 10) == self.session_id
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.disconnect()

    async def ask(self, text: str, metadata: dict | None = None) -> list[dict]:
        await self.client.emit(
            "user_uttered", {"message": text, "session_id": self.session_id, "metadata": metadata or {}}
        )
        replies = [await asyncio.wait_for(self.replies.get(), 30)]
        while True:  # more messages of the same turn follow quickly
            try:
                replies.append(await asyncio.wait_for(self.replies.get(), 1.5))
            except asyncio.TimeoutError:
                return replies


def text_of(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


async def test_replies_reach_the_client_with_session_persistence(assistant):
    async with Chat(assistant.url, uuid.uuid4().hex) as chat:
        assert "您好" in text_of(await chat.ask("你好"))
        assert "99元" in text_of(await chat.ask("运费怎么算"))


async def test_a_reconnecting_client_continues_its_conversation(assistant):
    session, keys = uuid.uuid4().hex, {}
    async with Chat(assistant.url, session, keys) as chat:
        await chat.ask("你好")
    async with Chat(assistant.url, session, keys) as chat:
        assert "8元" in text_of(await chat.ask("不满包邮的话邮费多少"))


async def test_two_customers_do_not_see_each_others_replies(assistant):
    async with Chat(assistant.url, uuid.uuid4().hex) as alice, Chat(assistant.url, uuid.uuid4().hex) as bob:
        await alice.ask("怎么开发票")
        assert bob.replies.empty()
        assert "电子发票" not in text_of(await bob.ask("你好"))
