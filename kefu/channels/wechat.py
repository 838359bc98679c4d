"""The Official Account (公众号) channel: WeChat's callback at ``/webhooks/wechat/webhook``.

WeChat waits 5 seconds for the answer to a callback and then retries the same message (up to
three times). Each message is taken once (deduplicated on MsgId, or sender and time for events,
across processes); an answer ready within ``WECHAT_PASSIVE_REPLY_SECONDS`` is the passive reply,
a later one (or one that needs several messages) goes out through the customer-service message
API while WeChat gets ``success`` at once. Agents' replies from the handoff desk go out through
the same API (:class:`WechatOutput`, found by the admin API as this channel's output channel).

credentials.yml::

    kefu.channels.wechat.WechatInput: {}
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.messages import BaseMessage

from kefu.channels.http import HttpChannel
from kefu.channels.message_guard import FAILURE_REPLY
from kefu.channels.wechat_conversations import Background, OnNewMessage, WechatConversations
from kefu.settings import Settings, get_settings
from kefu.wechat.api import MpApi
from kefu.wechat.protocol import BadCallback, CallbackCodec, Unsigned, field
from kefu.wechat.replies import split_text
from kefu.wechat.state import SeenMessages, TokenCache, seen_key, shared_state
from kefu.wechat.store import Contact, ContactRepository
from kefu.wechat.turns import mp_turn

logger = logging.getLogger(__name__)

SUCCESS = "success"  # WeChat's "received, no passive reply"
PARAMS = ("signature", "msg_signature", "timestamp", "nonce", "echostr", "openid", "encrypt_type")


def query(request: Request) -> dict[str, str]:
    """The callback's query parameters that matter, first value of each."""
    return {name: request.args.get(name) for name in PARAMS if request.args.get(name) is not None}


def refused(channel: str, request: Request, error: BadCallback) -> HTTPResponse:
    """A callback that is not WeChat's (signature, age) gets an empty 403; a malformed one a 400."""
    logger.warning("%s callback refused from %s: %s", channel, request.remote_addr or request.ip, error)
    return response.text("", status=403 if isinstance(error, Unsigned) else 400)


def callback_routes(
    hook: Blueprint,
    label: str,
    codec: CallbackCodec,
    handle: Callable[[Request, BaseMessage], Awaitable[HTTPResponse]],
) -> None:
    """``GET /webhook`` (the server-configuration handshake) and ``POST /webhook`` (a checked,
    decrypted message for ``handle``) on ``hook``; refused callbacks are logged."""

    @hook.route("/webhook", methods=["GET"])
    async def handshake(request: Request) -> HTTPResponse:
        try:
            return response.text(codec.echo(query(request)))
        except BadCallback as error:
            return refused(label, request, error)

    @hook.route("/webhook", methods=["POST"])
    async def receive(request: Request) -> HTTPResponse:
        try:
            message = codec.decode(query(request), request.body or b"")
        except BadCallback as error:
            return refused(label, request, error)
        return await handle(request, message)


def intents(request: Request) -> frozenset[str]:
    agent = getattr(request.app.ctx, "agent", None)
    domain = getattr(agent, "domain", None)
    return frozenset(getattr(domain, "intents", ()) or ())


class WechatOutput(OutputChannel):
    """Sends texts to a 公众号 contact through the customer-service message API."""

    def __init__(self, conversations: WechatConversations) -> None:
        self.conversations = conversations

    @classmethod
    def name(cls) -> str:
        return "wechat"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        contact = await asyncio.to_thread(self.conversations.contacts.get, recipient_id)
        if contact is None:
            raise ValueError(f"no WeChat contact behind {recipient_id}")
        for piece in split_text(text):
            await self.conversations.send(contact, piece)


class WechatInput(HttpChannel):
    """WeChat Official Account messages in, passive replies or customer-service messages out."""

    channel_name = "wechat"

    def __init__(
        self,
        settings: Settings | None = None,
        api: MpApi | None = None,
        contacts: ContactRepository | None = None,
        tokens: TokenCache | None = None,
        seen: SeenMessages | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        wechat = self.settings.wechat
        shared_tokens, shared_seen = shared_state(self.settings.redis_url, self.settings.redis_key_prefix)
        self.seen = seen or shared_seen
        self.api = api or MpApi(
            wechat.api_base, wechat.mp_app_id, wechat.mp_app_secret, tokens or shared_tokens
        )
        self.codec = CallbackCodec(wechat.mp_token, wechat.mp_aes_key, wechat.mp_app_id)
        contacts = contacts or ContactRepository(self.settings.customer_token_secret)
        self.conversations = WechatConversations(self.name(), self.settings, contacts, self._send)
        self.background = Background()

    def get_output_channel(self) -> OutputChannel:
        return WechatOutput(self.conversations)

    async def _send(self, contact: Contact, text: str) -> None:
        await self.api.send_text(contact.wechat_id, text)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = Blueprint("kefu_wechat")

        @hook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.api.close()

        if not self.settings.wechat.mp_enabled:
            logger.info("WeChat 公众号 channel off: WECHAT_MP_TOKEN is not set.")
            return hook
        mode = "safe (AES)" if self.settings.wechat.mp_aes_key else "plain"
        logger.info("WeChat 公众号 channel on at /webhooks/wechat/webhook, %s mode.", mode)

        async def answer(request: Request, message: BaseMessage) -> HTTPResponse:
            try:
                text = await self.handle(on_new_message, message, intents(request))
            except Exception:  # a store or database outage: the customer still hears from us
                logger.exception("WeChat: could not handle a message.")
                text = FAILURE_REPLY
            if text is None:
                return response.text(SUCCESS)
            nonce = request.args.get("nonce") or ""
            return response.text(self.codec.reply(message, text, nonce), content_type="application/xml")

        callback_routes(hook, "WeChat", self.codec, answer)
        return hook

    async def handle(
        self, on_new_message: OnNewMessage, message: BaseMessage, known: frozenset[str]
    ) -> str | None:
        """The passive reply to ``message``, or None (answered later through the API, or not at all)."""
        openid = field(message, "FromUserName")
        msg_id = field(message, "MsgId")
        key = (
            seen_key("wechat", msg_id) if msg_id else seen_key("wechat", openid, field(message, "CreateTime"))
        )
        if not await self.seen.first(key):
            logger.info("WeChat retried a message already taken; answered once.")
            return None
        contact = await asyncio.to_thread(self.conversations.contacts.contact_for, "wechat", openid)
        work = self.background.start(
            self.conversations.answer(on_new_message, contact, mp_turn(message, known))
        )
        try:
            texts = await asyncio.wait_for(asyncio.shield(work), self.settings.wechat.passive_reply_seconds)
        except asyncio.TimeoutError:
            self.background.start(self._late(contact, work))
            return None
        if len(texts) == 1:
            return texts[0]
        if texts:
            self.background.start(self.conversations.deliver(contact, texts))
        return None

    async def _late(self, contact: Contact, work: asyncio.Future) -> None:
        try:
            texts = await work
        except Exception:
            logger.exception("WeChat: could not answer %s.", contact.sender_id)
            texts = [FAILURE_REPLY]
        logger.info("WeChat answer to %s was late; sent through the API.", contact.sender_id)
        await self.conversations.deliver(contact, texts)
