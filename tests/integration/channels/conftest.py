"""Real Sanic servers on localhost and real socket.io clients for the channel tests; no Rasa model.

An :class:`EchoAssistant` stands in for Rasa's agent: it records each message and answers
"收到：<text>" through the message's own output channel, exactly where the agent's replies go.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import socketio
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from kefu.security import conversation_access

# How long to wait for a reply that should come, and for one that should not.
REPLY_TIMEOUT = 3.0
SILENCE = 0.7


class EchoAssistant:
    """Stands in for Rasa's agent: records each message and echoes it through its output channel."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"收到：{message.text}")


class ChatClient:
    """A socket.io client like the shop's web page: replies and session confirmations are queued."""

    def __init__(self, url: str, namespace: str | None = None) -> None:
        self.url = url
        self.namespace = namespace or "/"
        self.sio = socketio.AsyncClient(reconnection=False)
        self.replies: asyncio.Queue[Any] = asyncio.Queue()
        self.confirmations: asyncio.Queue[Any] = asyncio.Queue()
        self.sio.on("bot_uttered", self.replies.put_nowait, namespace=self.namespace)
        self.sio.on("session_confirm", self.confirmations.put_nowait, namespace=self.namespace)
        # The keys of the sessions this client opened, as the web page keeps them.
        self.keys: dict[str, str] = {}
        self.sio.on("session_key", self._keep_key, namespace=self.namespace)

    def _keep_key(self, data: dict[str, str]) -> None:
        self.keys[data["session_id"]] = data["session_key"]

    async def connect(
        self, auth: dict[str, Any] | None = None, transports: tuple[str, ...] = ("polling",)
    ) -> None:
        # Polling by default; the websocket transport needs the ``websocket_client`` fixture.
        await self.sio.connect(
            self.url,
            auth=auth,
            transports=list(transports),
            namespaces=[self.namespace],
            socketio_path="/socket.io",
            wait_timeout=REPLY_TIMEOUT,
        )

    async def disconnect(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()

    async def request_session(self, session_id: Any = None) -> str:
        """Sends ``session_request`` (with the session's key when this client holds it) and returns
        the confirmed session id."""
        await self.emit("session_request", {"session_id": session_id, **self._proof(session_id)})
        return await asyncio.wait_for(self.confirmations.get(), REPLY_TIMEOUT)

    async def say(self, text: Any, session_id: str | None, **fields: Any) -> None:
        await self.emit(
            "user_uttered", {"message": text, "session_id": session_id, **self._proof(session_id), **fields}
        )

    def _proof(self, session_id: Any) -> dict[str, str]:
        key = self.keys.get(session_id) if isinstance(session_id, str) else None
        return {"session_key": key} if key else {}

    async def emit(self, event: str, *data: Any) -> None:
        """Emits ``event`` with the given arguments as they are, however malformed."""
        await self.sio.emit(event, data[0] if len(data) == 1 else data or None, namespace=self.namespace)

    async def reply(self) -> Any:
        """The next ``bot_uttered`` payload; fails when none comes in time."""
        return await asyncio.wait_for(self.replies.get(), REPLY_TIMEOUT)

    async def silent_for(self, seconds: float = SILENCE) -> bool:
        """True when no ``bot_uttered`` arrives within ``seconds``."""
        try:
            await asyncio.wait_for(self.replies.get(), seconds)
        except asyncio.TimeoutError:
            return True
        return False


@pytest.fixture
def assistant() -> EchoAssistant:
    return EchoAssistant()


class LiveServers:
    """Sanic apps on free localhost ports serving channels the way Rasa does, and clients for them."""

    def __init__(self, assistant: EchoAssistant) -> None:
        self.assistant = assistant
        self._servers: list[Any] = []
        self._socket_servers: list[socketio.AsyncServer] = []
        self._clients: list[ChatClient] = []

    async def start(self, *channels: InputChannel) -> str:
        """Serves each channel's blueprint at ``/webhooks/<name>`` and returns the base URL."""
        app = Sanic(f"kefu_channels_{uuid.uuid4().hex}", configure_logging=False)
        for channel in channels:
            app.blueprint(channel.blueprint(self.assistant), url_prefix=f"/webhooks/{channel.url_prefix()}")
        return await self.serve(app, *channels)

    async def serve(self, app: Sanic, *channels: InputChannel) -> str:
        """Runs ``app``, whose blueprints come from ``channels``, and returns its base URL."""
        for channel in channels:
            sio = getattr(channel, "sio", None)
            if sio is not None:
                self._socket_servers.append(sio)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        await server.startup()
        self._servers.append(server)
        host, port = sock.getsockname()
        return f"http://{host}:{port}"

    async def connect(self, url: str, namespace: str | None = None, **kwargs: Any) -> ChatClient:
        """A connected :class:`ChatClient`; ``kwargs`` go to :meth:`ChatClient.connect`."""
        client = ChatClient(url, namespace)
        self._clients.append(client)
        await client.connect(**kwargs)
        return client

    async def stop(self) -> None:
        # Server side first: engineio answers a polling client's goodbye only with its next ping,
        # 25 s later, while closing the sockets from the server ends every client at once.
        for sio in self._socket_servers:
            if sio.eio.sockets:
                await sio.eio.disconnect()
            await sio.shutdown()
        for client in self._clients:
            await client.disconnect()
        for server in self._servers:
            server.close()
            await server.wait_closed()
            for connection in list(server.connections):
                connection.abort()


@pytest.fixture(autouse=True)
def fresh_owners(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test's servers start with no conversations, as after a restart: no owners either."""
    monkeypatch.setattr(conversation_access, "_registry", None)


@pytest_asyncio.fixture
async def live(assistant: EchoAssistant) -> AsyncIterator[LiveServers]:
    """Starts servers and clients for one test and stops them all after it."""
    # Sanic 21.12 rewrites its HTTP methods' source when an app starts and fails doing it a
    # second time in one process; in test mode (as sanic-testing runs) it rewrites kept originals.
    # Not reset afterwards: once rewritten, every later app in the process needs test mode too.
    Sanic.test_mode = True
    servers = LiveServers(assistant)
    try:
        yield servers
    finally:
        await servers.stop()


@pytest.fixture
def websocket_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lets python-socketio's client use the websocket transport with Rasa's aiohttp 3.9.

    engineio 4.15 builds ``aiohttp.ClientWSTimeout(ws_close=...)``, which appeared in aiohttp 3.10;
    aiohttp 3.9's ``ws_connect`` takes that close timeout as a plain number.
    """
    if not hasattr(aiohttp, "ClientWSTimeout"):
        monkeypatch.setattr(aiohttp, "ClientWSTimeout", lambda ws_close: ws_close, raising=False)
