"""Human handoff end to end: a customer asks for a human over REST or socket.io, an agent works the
queue through the admin API, the customer sees the agent's replies in the same chat, the bot stays
quiet meanwhile and answers again once the agent hands back."""

import asyncio
import time
import uuid

import pytest
import requests
import socketio

from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e

AGENT_PASSWORD = "e2e-agent-password-0123456789"


class Admin:
    """The admin API as one logged-in user."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = f"{url}/admin/api"
        answer = requests.post(
            f"{self.url}/auth/login", json={"username": username, "password": password}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['token']}"}

    def call(self, method: str, path: str, expect: int = 200, **kwargs) -> dict | None:
        answer = requests.request(method, f"{self.url}{path}", headers=self.headers, timeout=60, **kwargs)
        assert answer.status_code == expect, answer.text
        return answer.json() if answer.content else None


def new_agent(url: str, username: str, password: str) -> Admin:
    """An agent account created by the bootstrap admin, logged in."""
    Admin(url, "admin", ADMIN_PASSWORD).call(
        "POST", "/users", 201, json={"username": username, "password": password, "role": "agent"}
    )
    return Admin(url, username, password)


@pytest.fixture(scope="module")
def agent(assistant) -> Admin:
    return new_agent(assistant.url, "agent-e2e", AGENT_PASSWORD)


def queued(agent: Admin, sender: str) -> dict:
    waiting = [h for h in agent.call("GET", "/handoffs")["handoffs"] if h["sender_id"] == sender]
    assert len(waiting) == 1, waiting
    return waiting[0]


def test_handoff_over_rest(assistant, agent):
    sender = f"rest-{uuid.uuid4().hex}"
    assert assistant.texts("运费怎么算", sender)
    assert assistant.texts("转人工", sender)
    handoff = queued(agent, sender)
    assert "转人工" in [t["text"] for t in handoff["transcript"] if t["role"] == "customer"]

    since = time.time()
    agent.call("POST", f"/handoffs/{handoff['id']}/claim")
    assert assistant.say("我的快递三天没动了", sender) == []  # the bot stays quiet
    agent.call("POST", f"/handoffs/{handoff['id']}/reply", json={"text": "您好，我是人工客服，马上帮您查。"})
    polled = requests.get(
        f"{assistant.url}/webhooks/rest/messages",
        params={"sender": sender, "since": since},
        headers=assistant.proof(sender),
        timeout=30,
    ).json()
    texts = [m["text"] for m in polled]
    assert "您好，我是人工客服，马上帮您查。" in texts and all(m.get("agent") == "agent-e2e" for m in polled)
    detail = agent.call("GET", f"/handoffs/{handoff['id']}")
    assert "我的快递三天没动了" in [t["text"] for t in detail["transcript"]]

    agent.call("POST", f"/handoffs/{handoff['id']}/close")
    assert assistant.texts("运费怎么算", sender)  # the bot answers again
    assert all(h["sender_id"] != sender for h in agent.call("GET", "/handoffs")["handoffs"])


async def test_handoff_over_socketio(assistant, agent):
    session_id = f"sio-{uuid.uuid4().hex}"
    client = socketio.AsyncClient(reconnection=False)
    replies: asyncio.Queue = asyncio.Queue()
    client.on("bot_uttered", replies.put)
    await client.connect(assistant.url, socketio_path="/socket.io", transports=["polling"])
    try:
        await client.emit("session_request", {"session_id": session_id})
        await client.emit("user_uttered", {"message": "转人工", "session_id": session_id})
        await asyncio.wait_for(replies.get(), 30)
        handoff = None
        for _ in range(20):  # the reply may come just before the record is committed
            found = [h for h in agent.call("GET", "/handoffs")["handoffs"] if h["sender_id"] == session_id]
            if found:
                handoff = found[0]
                break
            await asyncio.sleep(0.25)
        assert handoff is not None
        await asyncio.to_thread(agent.call, "POST", f"/handoffs/{handoff['id']}/claim")
        await asyncio.to_thread(
            agent.call, "POST", f"/handoffs/{handoff['id']}/reply", json={"text": "人工客服在线，请讲。"}
        )
        received = []
        while "人工客服在线，请讲。" not in received:
            received.append((await asyncio.wait_for(replies.get(), 30)).get("text"))
        assert any("已接入" in (text or "") for text in received)
        await asyncio.to_thread(agent.call, "POST", f"/handoffs/{handoff['id']}/close")
        closing = (await asyncio.wait_for(replies.get(), 30)).get("text")
        assert "智能助手" in closing
    finally:
        await client.disconnect()


def test_outside_agents_and_customers_are_kept_out(assistant, agent):
    customer = Admin.__new__(Admin)
    customer.url, customer.headers = f"{assistant.url}/admin/api", {}
    customer.call("GET", "/handoffs", 401)
    agent.call("DELETE", "/knowledge/faq/shipping_fee", 403)
    spec = requests.get(f"{assistant.url}/admin/api/openapi.json", timeout=30).json()
    assert "/handoffs/{handoff_id}/claim" in spec["paths"]


def test_two_unanswered_messages_in_a_row_offer_a_human_and_queue_the_request(assistant, agent):
    sender = f"rest-{uuid.uuid4().hex}"
    first = assistant.texts("明天北京会下雨吗", sender)
    assert "超出了我的服务范围" in first and "连续两个问题" not in first
    second = assistant.texts("给我讲个笑话吧", sender)
    assert "连续两个问题都没能帮到您" in second, second
    handoff = queued(agent, sender)
    assert handoff["reason"] == "bot_failed_twice"
    assert [t["text"] for t in handoff["transcript"] if t["role"] == "customer"] == [
        "明天北京会下雨吗",
        "给我讲个笑话吧",
    ]
