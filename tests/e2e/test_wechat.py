"""The WeChat channels end to end: the running assistant, WeChat played by the stand-in
(tests/wechat_standin.py), callbacks signed and encrypted as WeChat sends them."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
import requests

from kefu.runtime.action_endpoint import KEEPALIVE_SECONDS
from kefu.security.tokens import issue_customer_token
from tests.e2e.conftest import TOKEN_SECRET
from tests.e2e.test_handoff import Admin, new_agent
from tests.wechat_standin import mp_text_xml

pytestmark = pytest.mark.e2e

AGENT_PASSWORD = "e2e-wechat-agent-password-0123"


class WechatCustomer:
    """One 公众号 follower writing to the shop."""

    def __init__(self, assistant, standin) -> None:
        self.url = f"{assistant.url}/webhooks/wechat/webhook"
        self.standin = standin
        self.openid = f"o{uuid.uuid4().hex[:27]}"

    def post(self, xml: str) -> tuple[int, str]:
        query, body = self.standin.mp_callback(xml)
        answer = requests.post(f"{self.url}?{query}", data=body, timeout=10)
        if answer.text.startswith("<xml>"):
            return answer.status_code, self.standin.mp_decrypt(query, answer.text)
        return answer.status_code, answer.text

    def say(self, text: str, msg_id: int | None = None) -> str:
        """The passive reply to ``text`` or, when it came later, what the send API delivered."""
        before = len(self.standin.texts_to(self.openid))
        status, reply = self.post(mp_text_xml(self.openid, text, msg_id))
        assert status == 200, reply
        if reply != "success":
            return reply
        return "\n".join(self.standin.wait_for_texts(self.openid, before + 1)[before:])


@pytest.fixture(scope="module")
def agent(assistant) -> Admin:
    return new_agent(assistant.url, "agent-wechat", AGENT_PASSWORD)


def test_an_faq_is_answered_once_passively_or_through_the_send_api(assistant, wechat_standin):
    customer = WechatCustomer(assistant, wechat_standin)
    status, reply = customer.post(mp_text_xml(customer.openid, "运费怎么算"))
    # Passive when the answer was ready within WECHAT_PASSIVE_REPLY_SECONDS (the first turn after a
    # start can take longer on a busy machine): then nothing comes through the API.
    late = reply == "success"
    if late:
        reply = wechat_standin.wait_for_texts(customer.openid)[0]
    assert status == 200 and "包邮" in reply, reply
    time.sleep(0.5)
    assert len(wechat_standin.texts_to(customer.openid)) == int(late)


# How long the action server is paused: past WECHAT_PASSIVE_REPLY_SECONDS (4.5 s by default) and
# WeChat's 5 s, far within Rasa's action-call timeout (rasa.core.constants.DEFAULT_REQUEST_TIMEOUT, 300 s).
ACTION_SERVER_PAUSE = 6.0


def test_a_slow_answer_comes_once_through_the_send_api(assistant, wechat_standin):
    question = "运费怎么算"  # answered by action_answer_faq, on the action server
    expected = assistant.texts(question)
    assert "包邮" in expected, expected
    customer = WechatCustomer(assistant, wechat_standin)
    # No connection left idle in Rasa's pool: on waking, the paused server's keep-alive timer would
    # close one under the request (its clock jumped by the pause), which no slow answer does.
    time.sleep(KEEPALIVE_SECONDS + 0.5)
    os.killpg(assistant.action_pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        status, reply = customer.post(mp_text_xml(customer.openid, question))
        answered_after = time.monotonic() - started
        time.sleep(max(0.0, ACTION_SERVER_PAUSE - (time.monotonic() - started)))
        sent_while_paused = wechat_standin.texts_to(customer.openid)
    finally:
        os.killpg(assistant.action_pid, signal.SIGCONT)
    assert (status, reply) == (200, "success") and answered_after < 5, (status, reply, answered_after)
    assert sent_while_paused == []
    assert wechat_standin.wait_for_texts(customer.openid, timeout=30) == [expected]
    time.sleep(1)  # a second delivery (a retry, or the passive path too) would show by now
    assert wechat_standin.texts_to(customer.openid) == [expected]


def event_xml(openid: str, kind: str, fields: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_standin_account]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
        f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>"
        f"{fields}</xml>"
    )


def test_a_new_follower_a_voice_message_and_a_picture(assistant, wechat_standin):
    customer = WechatCustomer(assistant, wechat_standin)

    def reply(kind: str, fields: str) -> str:
        status, text = customer.post(event_xml(customer.openid, kind, fields))
        assert status == 200
        return text if text != "success" else wechat_standin.wait_for_texts(customer.openid)[-1]

    assert "小龙" in reply("event", "<Event><![CDATA[subscribe]]></Event>")
    voice = "<MediaId>m1</MediaId><Format>amr</Format><Recognition><![CDATA[运费怎么算]]></Recognition>"
    assert "包邮" in reply("voice", voice + f"<MsgId>{uuid.uuid4().int % 10**15}</MsgId>")
    picture = "<PicUrl>http://127.0.0.1/p.jpg</PicUrl><MediaId>m2</MediaId>"
    picture += f"<MsgId>{uuid.uuid4().int % 10**15}</MsgId>"
    assert "文字" in reply("image", picture)


def test_a_retried_message_is_answered_once(assistant, wechat_standin):
    customer = WechatCustomer(assistant, wechat_standin)
    assert customer.say("运费怎么算", msg_id=424242)
    assert customer.post(mp_text_xml(customer.openid, "运费怎么算", 424242)) == (200, "success")
    time.sleep(1)
    assert wechat_standin.texts_to(customer.openid) == []


def test_a_forged_signature_gets_nothing(assistant, wechat_standin):
    customer = WechatCustomer(assistant, wechat_standin)
    query, body = wechat_standin.mp_callback(mp_text_xml(customer.openid, "运费怎么算"))
    answer = requests.post(
        f"{customer.url}?{query.replace('signature=', 'signature=0')}", data=body, timeout=10
    )
    assert (answer.status_code, answer.text) == (403, "")
    hostile = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>'
    query, _ = wechat_standin.mp_callback("<xml/>", safe=False)
    answer = requests.post(f"{customer.url}?{query}", data=hostile, timeout=10)
    assert answer.status_code == 400 and "root:" not in answer.text


def test_an_order_lookup_after_binding(assistant, wechat_standin):
    customer = WechatCustomer(assistant, wechat_standin)
    assert "后4位" in customer.say("帮我查一下订单LT2026110103")  # the OpenID alone proves nothing
    assert "绑定成功" in customer.say(f"绑定 {issue_customer_token('u1002', TOKEN_SECRET, 600)}")
    reply = customer.say("帮我查一下订单LT2026110103")
    assert "已发货" in reply and "SF1234567890" in reply and "后4位" not in reply, reply
    stranger = WechatCustomer(assistant, wechat_standin)
    assert "后4位" in stranger.say("帮我查一下订单LT2026110103")


def test_a_handoff_with_an_agents_reply(assistant, wechat_standin, agent):
    customer = WechatCustomer(assistant, wechat_standin)
    assert customer.say("转人工")
    waiting = [h for h in agent.call("GET", "/handoffs")["handoffs"] if h["sender_id"].startswith("wechat-")]
    assert waiting and all(customer.openid not in str(h) for h in waiting)
    handoff = next(h for h in waiting if "转人工" in str(h["transcript"]))
    agent.call("POST", f"/handoffs/{handoff['id']}/claim")
    tokens_fetched = len(wechat_standin.sent("/cgi-bin/token"))
    wechat_standin.expire_tokens()  # WeChat answers 42001: the channel fetches a new token and resends
    agent.call("POST", f"/handoffs/{handoff['id']}/reply", json={"text": "您好，我是人工客服小王。"})
    assert "您好，我是人工客服小王。" in wechat_standin.wait_for_texts(customer.openid, 2)
    assert len(wechat_standin.sent("/cgi-bin/token")) == tokens_fetched + 1
    agent.call("POST", f"/handoffs/{handoff['id']}/close")
    assert "包邮" in customer.say("运费怎么算")


def test_wecom_sync_msg_send_msg_and_the_cursor(assistant, wechat_standin, agent):
    hook = f"{assistant.url}/webhooks/wecom/webhook"
    customer = f"wm{uuid.uuid4().hex}"
    wechat_standin.queue_kf_text(customer, "运费怎么算")
    query, body = wechat_standin.kf_event()
    assert requests.post(f"{hook}?{query}", data=body, timeout=10).text == "success"
    assert "包邮" in wechat_standin.wait_for_texts(customer)[0]
    cursor = len(wechat_standin.kf_messages)

    wechat_standin.queue_kf_text(customer, "转人工")
    query, body = wechat_standin.kf_event()
    requests.post(f"{hook}?{query}", data=body, timeout=10)
    assert len(wechat_standin.wait_for_texts(customer, 2)) == 2
    assert wechat_standin.sent("/cgi-bin/kf/sync_msg")[-1].body.get("cursor") == str(cursor)
    handoff = next(
        h for h in agent.call("GET", "/handoffs")["handoffs"] if h["sender_id"].startswith("wecom-")
    )
    agent.call("POST", f"/handoffs/{handoff['id']}/claim")
    wechat_standin.fail_next = 1  # one 503 from WeChat: retried
    agent.call("POST", f"/handoffs/{handoff['id']}/reply", json={"text": "人工客服在线，请讲。"})
    assert "人工客服在线，请讲。" in wechat_standin.wait_for_texts(customer, 4)
    agent.call("POST", f"/handoffs/{handoff['id']}/close")
