"""A stand-in for WeChat's servers on 127.0.0.1, for the WeChat channels' tests.

It serves what the assistant calls (``cgi-bin/token``, ``cgi-bin/gettoken``, the customer-service
message API, WeCom's ``kf`` APIs), checks credentials and tokens as WeChat does, records every call,
and can be told to answer 5xx, expire every token, or answer slowly. It also makes the callbacks
WeChat would send: signed and, in safe mode, encrypted with the test credentials (wechatpy's
crypto, the scheme WeChat documents).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WecomCrypto

from kefu.wechat.protocol import signature
from tests.processes import free_port

MP_APP_ID = "wx5823bf96d3bd56c7"
MP_SECRET = "standin-mp-secret-0123456789"
MP_TOKEN = "standinmptoken"
MP_ACCOUNT = "gh_standin_account"
CORP_ID = "ww5823bf96d3bd56c7"
CORP_SECRET = "standin-corp-secret-0123456789"
WECOM_TOKEN = "standinwecomtoken"
OPEN_KFID = "wkStandinKf0001"
# The sample EncodingAESKey of WeChat's message-encryption documentation.
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


@dataclass
class Call:
    path: str
    query: dict[str, str]
    body: Any
    accepted: bool = False  # answered errcode 0


@dataclass
class Standin:
    """The stand-in's state; the tests read ``calls`` and set the faults."""

    port: int = 0
    calls: list[Call] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)  # token: expiry (time.time())
    fail_next: int = 0  # this many next API calls answer HTTP 503
    delay: float = 0.0  # seconds before every answer
    kf_messages: list[dict] = field(default_factory=list)  # everything sync_msg can return, in order
    service_states: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def sent(self, path: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.path == path]

    def texts_to(self, wechat_id: str) -> list[str]:
        """The texts sent to ``wechat_id`` through the custom-send or kf send_msg APIs."""
        paths = ("/cgi-bin/message/custom/send", "/cgi-bin/kf/send_msg")
        with self.lock:
            return [
                call.body["text"]["content"]
                for call in self.calls
                if call.accepted and call.path in paths and call.body.get("touser") == wechat_id
            ]

    def wait_for_texts(self, wechat_id: str, count: int = 1, timeout: float = 30) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.texts_to(wechat_id)
            if len(texts) >= count:
                return texts
            time.sleep(0.1)
        return self.texts_to(wechat_id)

    # Callbacks, as WeChat sends them.
    def mp_callback(self, xml: str, safe: bool = True, now: int | None = None) -> tuple[str, bytes]:
        """The query string and body of a 公众号 callback carrying ``xml``."""
        timestamp, nonce = str(now or int(time.time())), secrets.token_hex(5)
        params = {"timestamp": timestamp, "nonce": nonce, "signature": signature(MP_TOKEN, timestamp, nonce)}
        if not safe:
            return urlencode(params), xml.encode()
        envelope = WeChatCrypto(MP_TOKEN, AES_KEY, MP_APP_ID).encrypt_message(xml, nonce, timestamp)
        encrypted = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
        params |= {"encrypt_type": "aes", "msg_signature": signature(MP_TOKEN, timestamp, nonce, encrypted)}
        return urlencode(params), _envelope(MP_ACCOUNT, encrypted)

    def mp_decrypt(self, query: str, reply: str) -> str:
        """The clear XML of an encrypted passive reply."""
        from urllib.parse import parse_qs

        params = {k: v[0] for k, v in parse_qs(query).items()}
        crypto = WeChatCrypto(MP_TOKEN, AES_KEY, MP_APP_ID)
        import xmltodict
        from wechatpy.utils import to_text

        fields = xmltodict.parse(reply)["xml"]
        return to_text(
            crypto.decrypt_message(reply, fields["MsgSignature"], fields["TimeStamp"], params["nonce"])
        )

    def wecom_callback(self, xml: str) -> tuple[str, bytes]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        envelope = WecomCrypto(WECOM_TOKEN, AES_KEY, CORP_ID).encrypt_message(xml, nonce, timestamp)
        encrypted = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
        params = {
            "timestamp": timestamp,
            "nonce": nonce,
            "msg_signature": signature(WECOM_TOKEN, timestamp, nonce, encrypted),
        }
        return urlencode(params), _envelope(CORP_ID, encrypted)

    def kf_event(self, token: str = "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR") -> tuple[str, bytes]:
        """WeCom's "messages are waiting" callback for :data:`OPEN_KFID`."""
        xml = (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
            f"<Token><![CDATA[{token}]]></Token><OpenKfId><![CDATA[{OPEN_KFID}]]></OpenKfId></xml>"
        )
        return self.wecom_callback(xml)

    def queue_kf_text(self, external_userid: str, text: str) -> str:
        """A customer's text that sync_msg will return; its msgid."""
        msgid = uuid.uuid4().hex
        with self.lock:
            self.kf_messages.append(
                {
                    "msgid": msgid,
                    "open_kfid": OPEN_KFID,
                    "external_userid": external_userid,
                    "send_time": int(time.time()),
                    "origin": 3,
                    "msgtype": "text",
                    "text": {"content": text},
                }
            )
        return msgid


def _envelope(to: str, encrypted: str) -> bytes:
    """The body of an encrypted callback: the addressee and the ciphertext only."""
    xml = f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    return xml.encode()


def mp_text_xml(openid: str, text: str, msg_id: int | None = None, created: int | None = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{MP_ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id or secrets.randbelow(10**15)}</MsgId></xml>"
    )


def _app(state: Standin) -> web.Application:
    async def record(request: web.Request) -> tuple[dict[str, str], Any]:
        body = await request.json() if request.can_read_body else None
        call = Call(request.path, dict(request.query), body)
        request["call"] = call
        with state.lock:
            state.calls.append(call)
        if state.delay:
            await asyncio.sleep(state.delay)
        return dict(request.query), body

    def fault() -> web.Response | None:
        with state.lock:
            if state.fail_next > 0:
                state.fail_next -= 1
                return web.Response(status=503, text="busy")
        return None

    # Token endpoints: the query parameters they check, and the error of wrong ones.
    credentials = {
        "/cgi-bin/token": ({"appid": MP_APP_ID, "secret": MP_SECRET}, 40013),
        "/cgi-bin/gettoken": ({"corpid": CORP_ID, "corpsecret": CORP_SECRET}, 40001),
    }

    async def token(request: web.Request) -> web.Response:
        query, _ = await record(request)
        if (failed := fault()) is not None:  # a Response is an empty mapping: falsy
            return failed
        expected, error = credentials[request.path]
        if any(query.get(name) != value for name, value in expected.items()):
            return web.json_response({"errcode": error, "errmsg": "invalid credential"})
        issued = secrets.token_urlsafe(24)
        with state.lock:
            state.tokens[issued] = time.time() + 7200
        return web.json_response({"access_token": issued, "expires_in": 7200})

    async def api(request: web.Request) -> web.Response:
        query, body = await record(request)
        if (failed := fault()) is not None:  # a Response is an empty mapping: falsy
            return failed
        with state.lock:
            expiry = state.tokens.get(query.get("access_token", ""))
        if expiry is None or expiry < time.time():
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        request["call"].accepted = True
        return web.json_response({"errcode": 0, "errmsg": "ok", **answer(request.path, body or {})})

    def answer(path: str, body: dict) -> dict:
        if path == "/cgi-bin/kf/sync_msg":
            start = int(body.get("cursor") or 0)
            limit = int(body.get("limit") or 1000)
            with state.lock:
                page = state.kf_messages[start : start + limit]
                end = start + len(page)
                more = end < len(state.kf_messages)
            return {"next_cursor": str(end), "has_more": int(more), "msg_list": page}
        if path == "/cgi-bin/kf/service_state/get":
            return {"service_state": state.service_states.get(body.get("external_userid", ""), 1)}
        if path == "/cgi-bin/kf/service_state/trans":
            state.service_states[body.get("external_userid", "")] = int(body.get("service_state", 0))
            return {}
        if path == "/cgi-bin/kf/send_msg":
            return {"msgid": uuid.uuid4().hex}
        return {}

    app = web.Application()
    app.router.add_get("/cgi-bin/token", token)
    app.router.add_get("/cgi-bin/gettoken", token)
    for path in (
        "/cgi-bin/message/custom/send",
        "/cgi-bin/kf/sync_msg",
        "/cgi-bin/kf/send_msg",
        "/cgi-bin/kf/service_state/get",
        "/cgi-bin/kf/service_state/trans",
    ):
        app.router.add_post(path, api)
    return app


class Running:
    """The stand-in served from a thread of its own (``with Running() as standin: ...``)."""

    def __init__(self) -> None:
        self.state = Standin(port=free_port())
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> Standin:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self.state

    async def _start(self) -> None:
        self._runner = web.AppRunner(_app(self.state), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.state.port).start()

    def __exit__(self, *_: Any) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def assistant_env(standin: Standin) -> dict[str, str]:
    """The settings that point both WeChat channels of an assistant at ``standin``."""
    return {
        "WECHAT_MP_APP_ID": MP_APP_ID,
        "WECHAT_MP_APP_SECRET": MP_SECRET,
        "WECHAT_MP_TOKEN": MP_TOKEN,
        "WECHAT_MP_AES_KEY": AES_KEY,
        "WECOM_CORP_ID": CORP_ID,
        "WECOM_SECRET": CORP_SECRET,
        "WECOM_TOKEN": WECOM_TOKEN,
        "WECOM_AES_KEY": AES_KEY,
        "WECHAT_API_BASE": standin.url,
        "WECOM_API_BASE": standin.url,
    }


@pytest.fixture(scope="session")
def running_standin() -> Iterator[Standin]:
    with Running() as standin:
        yield standin


@pytest.fixture
def standin(running_standin: Standin) -> Standin:
    """The stand-in with nothing recorded, no faults and no tokens issued."""
    state = running_standin
    with state.lock:
        state.calls.clear()
        state.tokens.clear()
        state.kf_messages.clear()
        state.service_states.clear()
        state.fail_next, state.delay = 0, 0.0
    return state
