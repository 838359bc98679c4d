"""The attacks of issue 13 (findings 2, 4, 5, 7) against the running assistant: reading or writing
someone else's conversation by its id over REST, the SDK API and socket.io, forged ownership
metadata, a foreign Origin, and oversized bodies. Each must now fail to get in, while the owner of
each conversation keeps using it as before."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import requests
import socketio

from kefu.security.conversation_access import KEY_HEADER
from kefu.security.tokens import issue_customer_token
from tests.e2e.conftest import ADMIN_PASSWORD, TOKEN_SECRET

pytestmark = pytest.mark.e2e

SDK_HEADERS = {"X-API-Key": "e2e-sdk-key-0123456789"}
CUSTOMER, ORDER, TRACKING = "u1002", "LT2026110103", "SF1234567890"  # kefu/seed_data/orders.csv
TWENTY_MB = 20 * 1024 * 1024


def rest_messages(assistant, sender: str, headers: dict | None = None) -> requests.Response:
    return requests.get(
        f"{assistant.url}/webhooks/rest/messages",
        params={"sender": sender, "since": 0},
        headers=headers or {},
        timeout=30,
    )


def rest_post(assistant, sender: str, text: str, headers: dict | None = None, **body) -> requests.Response:
    return requests.post(
        f"{assistant.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text, **body},
        headers=headers or {},
        timeout=60,
    )


@pytest.fixture
def victim(assistant) -> str:
    """A logged-in customer's REST conversation under the README's guessable sender id style."""
    sender = f"customer-{uuid.uuid4().hex[:6]}"
    token = issue_customer_token(CUSTOMER, TOKEN_SECRET)
    answer = assistant.texts(f"{ORDER} 到哪了", sender, {"user_token": token})
    assert TRACKING in answer, answer  # the victim sees it: the checks below mean something
    return sender


def test_reading_a_conversation_by_its_id_needs_its_key(assistant, victim):
    stranger = rest_messages(assistant, victim)
    guesser = rest_messages(assistant, victim, {KEY_HEADER: "guessed-key"})

    assert stranger.status_code == 401 and TRACKING not in stranger.text
    assert "X-Conversation-Key" in stranger.json()["error"]
    assert guesser.status_code == 403 and TRACKING not in guesser.text
    # The owner still reads it: with its key, or with the token it logged in with.
    assert TRACKING in rest_messages(assistant, victim, assistant.proof(victim)).text
    token = issue_customer_token(CUSTOMER, TOKEN_SECRET)
    assert TRACKING in rest_messages(assistant, victim, {"Authorization": f"Bearer {token}"}).text


def test_posting_into_someone_elses_conversation_is_refused(assistant, victim):
    since = time.time()
    injected = rest_post(assistant, victim, "帮我取消订单")
    other_customer = rest_post(
        assistant, victim, "我的订单", metadata={"user_token": issue_customer_token("u1001", TOKEN_SECRET)}
    )

    assert injected.status_code == 401 and TRACKING not in injected.text
    assert other_customer.status_code == 403
    owner = rest_messages(assistant, victim, assistant.proof(victim)).json()
    assert [m for m in owner if m["timestamp"] > since] == []  # nothing was said into it
    assert assistant.texts("你好", victim)  # the owner carries on


def test_an_sdk_session_is_reachable_only_through_the_sdk_with_its_key(assistant):
    created = requests.post(
        f"{assistant.url}/webhooks/sdk/sessions",
        json={"user_id": "app-user"},
        headers=SDK_HEADERS,
        timeout=60,
    )
    assert created.status_code == 201, created.text
    session_id = created.json()["session_id"]
    sent = requests.post(
        f"{assistant.url}/webhooks/sdk/sessions/{session_id}/messages",
        json={"text": "运费怎么算"},
        headers=SDK_HEADERS,
        timeout=60,
    )
    assert sent.status_code == 200 and sent.json()["messages"]

    assert rest_messages(assistant, session_id).status_code == 401
    assert rest_post(assistant, session_id, "你好").status_code == 401
    no_key = requests.get(f"{assistant.url}/webhooks/sdk/sessions/{session_id}", timeout=30)
    assert no_key.status_code == 401


def test_forged_sdk_session_metadata_gives_no_session(assistant):
    sender = f"forger-{uuid.uuid4().hex}"
    forged = {"session_id": sender, "app": "e2e-tests", "user_id": "victim", "channel": "api", "context": {}}
    assert rest_post(assistant, sender, "你好", metadata={"sdk_session": forged}).status_code == 200

    taken = requests.get(f"{assistant.url}/webhooks/sdk/sessions/{sender}", headers=SDK_HEADERS, timeout=30)
    posted = requests.post(
        f"{assistant.url}/webhooks/sdk/sessions/{sender}/messages",
        json={"text": "你好"},
        headers=SDK_HEADERS,
        timeout=60,
    )
    assert (taken.status_code, posted.status_code) == (404, 404)


def test_forged_admin_session_metadata_gives_no_ownership(assistant, victim):
    admin = login(assistant, "admin", ADMIN_PASSWORD)
    name, password = f"cust-{uuid.uuid4().hex[:8]}", "e2e-customer-password-0123456789"
    created = requests.post(
        f"{assistant.url}/admin/api/users",
        json={"username": name, "password": password, "role": "customer"},
        headers=admin,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    customer = login(assistant, name, password)
    forged = {"admin_session": {"session_id": victim, "owner": name, "created_at": "2026-11-21"}}

    # Into the victim's conversation (refused: no key), and into one of its own making.
    assert rest_post(assistant, victim, "你好", metadata=forged).status_code == 401
    own = f"forger-{uuid.uuid4().hex}"
    assert rest_post(assistant, own, "你好", metadata=forged).status_code == 200

    for session_id in (victim, own):
        seen = requests.get(f"{assistant.url}/admin/api/sessions/{session_id}", headers=customer, timeout=30)
        assert seen.status_code == 404 and TRACKING not in seen.text


def login(assistant, username: str, password: str) -> dict:
    answer = requests.post(
        f"{assistant.url}/admin/api/auth/login", json={"username": username, "password": password}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def test_a_second_socketio_client_cannot_join_the_victims_session(assistant):
    token = issue_customer_token(CUSTOMER, TOKEN_SECRET)
    session_id = uuid.uuid4().hex
    victim, attacker = Socket(assistant.url), Socket(assistant.url)
    await victim.connect()
    await attacker.connect()
    try:
        assert await victim.request(session_id) == session_id
        await victim.say(f"{ORDER} 到哪了", session_id, {"user_token": token})
        assert TRACKING in await victim.texts()

        joined = await attacker.request(session_id)
        await attacker.say("我的订单到哪了", session_id)
        await victim.say(f"{ORDER} 到哪了", session_id, {"user_token": token})

        assert joined != session_id
        assert TRACKING in await victim.texts()
        heard = await attacker.texts()
        assert TRACKING not in heard and "刷新页面" in heard
    finally:
        await victim.close()
        await attacker.close()


async def test_socketio_refuses_a_foreign_origin(assistant):
    client = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            assistant.url,
            headers={"Origin": "https://evil.example.net"},
            socketio_path="/socket.io",
            transports=["polling"],
            wait_timeout=10,
        )
    own = socketio.AsyncClient(reconnection=False)
    await own.connect(
        assistant.url, headers={"Origin": assistant.url}, socketio_path="/socket.io", transports=["polling"]
    )
    assert own.connected
    await own.disconnect()


def test_twenty_megabytes_of_metadata_are_refused_on_every_channel(assistant):
    huge = {"blob": "x" * TWENTY_MB}
    rest = rest_post(assistant, uuid.uuid4().hex, "你好", metadata=huge)
    created = requests.post(
        f"{assistant.url}/webhooks/sdk/sessions", json={}, headers=SDK_HEADERS, timeout=60
    )
    sdk = requests.post(
        f"{assistant.url}/webhooks/sdk/sessions/{created.json()['session_id']}/messages",
        json={"text": "你好", "metadata": huge},
        headers=SDK_HEADERS,
        timeout=60,
    )
    admin = requests.post(
        f"{assistant.url}/admin/api/auth/login", json={"username": "x" * TWENTY_MB}, timeout=60
    )
    small = rest_post(assistant, uuid.uuid4().hex, "你好", metadata={"blob": "x" * 9000})

    assert (rest.status_code, sdk.status_code, admin.status_code, small.status_code) == (413, 413, 413, 413)
    assert "MAX_BODY_BYTES" in rest.json()["error"] and "metadata" in small.json()["error"]
    assert "您好" in assistant.texts("你好")  # and the server carries on


async def test_twenty_megabytes_over_socketio_drop_only_that_client(assistant):
    hostile, customer = Socket(assistant.url), Socket(assistant.url)
    await hostile.connect()
    await customer.connect()
    try:
        session_id = await customer.request(uuid.uuid4().hex)
        await hostile.request(uuid.uuid4().hex)
        await hostile.client.emit("user_uttered", {"message": "你好", "metadata": {"blob": "x" * TWENTY_MB}})
        await customer.say("你好", session_id)
        assert "您好" in await customer.texts()
    finally:
        await hostile.close()
        await customer.close()


def test_a_lone_surrogate_is_answered_politely_without_a_traceback(assistant):
    before = (assistant.logs / "rasa.log").read_text(errors="replace").count("Traceback")
    sender = uuid.uuid4().hex
    answer = requests.post(
        f"{assistant.url}/webhooks/rest/webhook",
        data=b'{"sender": "' + sender.encode() + b'", "message": "\\ud800 \xe4\xbd\xa0\xe5\xa5\xbd"}',
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    in_metadata = requests.post(
        f"{assistant.url}/webhooks/rest/webhook",
        data=b'{"sender": "' + sender.encode() + b'x", "message": "hi", "metadata": {"a": "\\udfff"}}',
        headers={"Content-Type": "application/json"},
        timeout=60,
    )

    assert answer.status_code == 200 and "无法识别的字符" in answer.json()[0]["text"]
    assert in_metadata.status_code == 400
    time.sleep(0.5)
    assert (assistant.logs / "rasa.log").read_text(errors="replace").count("Traceback") == before


class Socket:
    """A socket.io customer keeping the keys of the sessions it opened."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = socketio.AsyncClient(reconnection=False)
        self.replies: asyncio.Queue = asyncio.Queue()
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.keys: dict[str, str] = {}
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", self.confirmed.put)
        self.client.on(
            "session_key", lambda data: self.keys.update({data["session_id"]: data["session_key"]})
        )

    async def connect(self) -> None:
        await self.client.connect(self.url, socketio_path="/socket.io", transports=["polling"])

    async def request(self, session_id: str) -> str:
        request = {
            "session_id": session_id,
            **({"session_key": self.keys[session_id]} if session_id in self.keys else {}),
        }
        await self.client.emit("session_request", request)
        return await asyncio.wait_for(self.confirmed.get(), 10)

    async def say(self, text: str, session_id: str, metadata: dict | None = None) -> None:
        await self.client.emit(
            "user_uttered", {"message": text, "session_id": session_id, "metadata": metadata or {}}
        )

    async def texts(self) -> str:
        """The texts of the next answer (its messages come close together)."""
        texts = [(await asyncio.wait_for(self.replies.get(), 30)).get("text", "")]
        while True:
            try:
                texts.append((await asyncio.wait_for(self.replies.get(), 1.5)).get("text", ""))
            except asyncio.TimeoutError:
                return "\n".join(texts)

    async def close(self) -> None:
        if self.client.connected:
            await self.client.disconnect()
