"""The 公众号 and WeCom channels' routes, called like Sanic calls them, with a fake assistant, a real
SQLite database and the stand-in for WeChat's servers: passive and late answers, retries answered
once, forged callbacks, bindings, hostile XML, WeCom's sync_msg cursor across a restart."""

# ruff: noqa: F811  (the fixtures are imported)

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.channels.message_guard import FAILURE_REPLY
from kefu.channels.wechat import WechatInput
from kefu.channels.wecom import WecomInput
from kefu.security.tokens import issue_customer_token, verify_customer_token
from kefu.settings import Settings
from kefu.wechat.config import WechatSettings
from kefu.wechat.state import MemoryTokenCache, SqlSeen
from kefu.wechat.store import ContactRepository, CursorRepository, SqlSeenMessages
from kefu.wechat.turns import BOUND
from tests import wechat_standin as w
from tests.unit.db.conftest import cipher, db_url  # noqa: F401  (fixtures)
from tests.wechat_standin import running_standin, standin  # noqa: F401  (fixtures)

SECRET = "unit-test-customer-token-secret-0123456789"


class FakeAssistant:
    """Answers like the assistant would; "慢" takes longer than WeChat's passive deadline."""

    def __init__(self) -> None:
        self.seen: list = []

    async def __call__(self, message) -> None:
        self.seen.append(message)
        if message.text == "慢":
            await asyncio.sleep(0.5)
        user = verify_customer_token((message.metadata or {}).get("user_token"), SECRET)
        await message.output_channel.send_text_message(
            message.sender_id, f"答：{message.text}（{user or '未登录'}）"
        )


def channel_settings(standin, **wechat) -> Settings:
    return Settings(
        customer_token_secret=SECRET,
        wechat=WechatSettings(
            mp_app_id=w.MP_APP_ID,
            mp_app_secret=w.MP_SECRET,
            mp_token=w.MP_TOKEN,
            mp_aes_key=w.AES_KEY,
            wecom_corp_id=w.CORP_ID,
            wecom_secret=w.CORP_SECRET,
            wecom_token=w.WECOM_TOKEN,
            wecom_aes_key=w.AES_KEY,
            api_base=standin.url,
            wecom_api_base=standin.url,
            passive_reply_seconds=0.2,
            **wechat,
        ),
    )


class Routes:
    def __init__(self, channel) -> None:
        self.channel = channel
        self.assistant = FakeAssistant()
        blueprint = channel.blueprint(self.assistant)
        self.routes = {(r.uri, m): r.handler for r in blueprint._future_routes for m in r.methods}
        self.app = SimpleNamespace(ctx=SimpleNamespace(agent=None))

    async def call(self, method: str, query: str, body: bytes = b""):
        request = SimpleNamespace(
            args=dict(parse_qsl(query)), body=body, app=self.app, remote_addr="10.0.0.9"
        )
        answer = await self.routes[("/webhook", method)](request)
        await self.channel.background.drain()
        await self.channel.api.close()  # each asyncio.run is a new loop: a session per call
        return answer.status, answer.body.decode()


@pytest.fixture
def mp(standin, db_url, cipher) -> Routes:
    return Routes(
        WechatInput(
            channel_settings(standin),
            contacts=ContactRepository(SECRET, db_url, cipher),
            tokens=MemoryTokenCache(),
            seen=SqlSeen(SqlSeenMessages(db_url)),
        )
    )


def say(mp: Routes, standin, text: str, openid: str = "oCustomer1", msg_id: int | None = None):
    query, body = standin.mp_callback(w.mp_text_xml(openid, text, msg_id))
    status, reply = asyncio.run(mp.call("POST", query, body))
    return status, (standin.mp_decrypt(query, reply) if reply.startswith("<xml>") else reply)


def test_the_handshake_echoes_only_for_wechat(mp):
    now = str(int(time.time()))
    signed = f"timestamp={now}&nonce=n1&echostr=hello&signature={w.signature(w.MP_TOKEN, now, 'n1')}"
    assert asyncio.run(mp.call("GET", signed)) == (200, "hello")
    assert asyncio.run(mp.call("GET", signed.replace("signature=", "signature=0")))[0] == 403


def test_a_quick_answer_is_the_passive_reply(mp, standin):
    status, reply = say(mp, standin, "运费多少")
    assert status == 200 and "答：运费多少（未登录）" in reply
    assert (
        mp.assistant.seen[0].sender_id.startswith("wechat-")
        and "oCustomer1" not in mp.assistant.seen[0].sender_id
    )
    assert standin.texts_to("oCustomer1") == []


def test_a_slow_answer_goes_through_the_send_api(mp, standin):
    assert say(mp, standin, "慢") == (200, "success")
    assert standin.texts_to("oCustomer1") == ["答：慢（未登录）"]


def test_a_retried_message_is_answered_once(mp, standin):
    first = say(mp, standin, "运费多少", msg_id=777)
    again = say(mp, standin, "运费多少", msg_id=777)
    assert "答：运费多少" in first[1] and again == (200, "success")
    assert len(mp.assistant.seen) == 1


def test_a_forged_or_replayed_callback_gets_nothing(mp, standin):
    query, body = standin.mp_callback(w.mp_text_xml("oCustomer1", "hi"))
    assert asyncio.run(mp.call("POST", query.replace("msg_signature=", "msg_signature=f"), body)) == (403, "")
    old_query, old_body = standin.mp_callback(w.mp_text_xml("oCustomer1", "hi"), now=int(time.time()) - 3600)
    assert asyncio.run(mp.call("POST", old_query, old_body)) == (403, "")
    assert mp.assistant.seen == []


def test_binding_makes_the_customer_known(mp, standin):
    assert BOUND in say(mp, standin, f"绑定 {issue_customer_token('U1001', SECRET)}")[1]
    assert "（U1001）" in say(mp, standin, "我的订单")[1]
    assert "（未登录）" in say(mp, standin, "我的订单", openid="oSomeoneElse")[1]
    say(mp, standin, "解除绑定")
    assert "（未登录）" in say(mp, standin, "我的订单")[1]


def test_an_agents_reply_goes_through_the_send_api(mp, standin):
    say(mp, standin, "转人工")
    sender = mp.assistant.seen[0].sender_id
    asyncio.run(mp.channel.get_output_channel().send_text_message(sender, "您好，我是客服小王"))
    assert standin.texts_to("oCustomer1") == ["您好，我是客服小王"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=300)
    | st.sampled_from([b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><xml>&e;</xml>"])
)
def test_fuzzed_signed_bodies_get_no_5xx(mp, standin, body):
    query, _ = standin.mp_callback("<xml/>", safe=False)
    status, reply = asyncio.run(mp.call("POST", query, body))
    assert status in (200, 400) and "Traceback" not in reply and "root:" not in reply


def wecom(standin, db_url, cipher, **wechat) -> Routes:
    return Routes(
        WecomInput(
            channel_settings(standin, **wechat),
            contacts=ContactRepository(SECRET, db_url, cipher),
            cursors=CursorRepository(db_url),
            tokens=MemoryTokenCache(),
            seen=SqlSeen(SqlSeenMessages(db_url)),
        )
    )


def test_wecom_reads_from_the_saved_cursor_after_a_restart(standin, db_url, cipher):
    standin.queue_kf_text("wmCustomer", "你好")
    assert asyncio.run(wecom(standin, db_url, cipher).call("POST", *standin.kf_event())) == (200, "success")
    assert standin.texts_to("wmCustomer") == ["答：你好（未登录）"]

    standin.queue_kf_text("wmCustomer", "运费")
    restarted = wecom(standin, db_url, cipher)  # a new process: nothing in memory
    asyncio.run(restarted.call("POST", *standin.kf_event()))
    assert standin.texts_to("wmCustomer") == ["答：你好（未登录）", "答：运费（未登录）"]
    assert [c.body.get("cursor") for c in standin.sent("/cgi-bin/kf/sync_msg")] == [None, "1"]
    assert [m.text for m in restarted.assistant.seen] == ["运费"]


def test_wecom_hands_a_queued_customer_to_wecoms_agents(standin, db_url, cipher):
    from kefu.db.handoffs import HandoffRepository

    routes = wecom(standin, db_url, cipher, wecom_handoff_to_pool=True)
    routes.channel.handoffs = HandoffRepository(db_url)
    standin.queue_kf_text("wmCustomer", "转人工")
    sender = routes.channel.conversations.contacts.contact_for("wecom", "wmCustomer", w.OPEN_KFID).sender_id
    routes.channel.handoffs.create(sender, "request_human", [])
    asyncio.run(routes.call("POST", *standin.kf_event()))
    assert [c.body["service_state"] for c in standin.sent("/cgi-bin/kf/service_state/trans")] == [2]
    answered = standin.texts_to("wmCustomer")

    standin.queue_kf_text("wmCustomer", "在吗")  # WeCom's agents hold the session now
    asyncio.run(routes.call("POST", *standin.kf_event()))
    assert standin.texts_to("wmCustomer") == answered
    assert [m.text for m in routes.assistant.seen] == ["转人工"]


def test_a_database_outage_gets_an_apology_not_a_5xx(standin, db_url, cipher, tmp_path, caplog):
    broken = ContactRepository(SECRET, f"sqlite:///{tmp_path / 'not-migrated.db'}", cipher)
    routes = Routes(
        WechatInput(
            channel_settings(standin),
            contacts=broken,
            tokens=MemoryTokenCache(),
            seen=SqlSeen(SqlSeenMessages(db_url)),
        )
    )
    status, reply = say(routes, standin, "运费多少")
    assert status == 200 and FAILURE_REPLY in reply
    assert "could not handle" in caplog.text
