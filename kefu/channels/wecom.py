"""The WeCom customer-service (微信客服) channel: the callback at ``/webhooks/wecom/webhook``.

WeCom's callback only says that messages are waiting (``kf_msg_or_event`` with a token); the
channel answers it at once and reads them with ``sync_msg`` from the cursor it saved last (in the
database, so that a restart neither reads a message twice nor skips one; each message is also
deduplicated on its msgid), answers each customer message with ``send_msg``, and saves the cursor
after every page. A customer who asks for a human joins the handoff desk's queue like any other;
with ``WECOM_HANDOFF_TO_POOL`` the session is moved to WeCom's own queue of human agents instead
(``service_state/trans``, state 2).

credentials.yml::

    kefu.channels.wecom.WecomInput: {}
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from rasa.core.channels.channel import OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.messages import BaseMessage

from kefu.channels.http import HttpChannel
from kefu.channels.wechat import SUCCESS, WechatOutput, callback_routes, intents
from kefu.channels.wechat_conversations import Background, OnNewMessage, WechatConversations
from kefu.db.handoffs import HandoffRepository
from kefu.settings import Settings, get_settings
from kefu.wechat.api import WechatApiError, WecomApi
from kefu.wechat.protocol import CallbackCodec, field
from kefu.wechat.state import SeenMessages, TokenCache, seen_key, shared_state
from kefu.wechat.store import Contact, ContactRepository, CursorRepository
from kefu.wechat.turns import part, wecom_turn

logger = logging.getLogger(__name__)

FROM_CUSTOMER = 3  # sync_msg's origin of a message the customer sent (4: system event, 5: agent)
MAX_PAGES = 50  # per callback: a backlog beyond this is read at the next callback
QUEUED_FOR_HUMAN = 2
WITH_HUMAN = 3


class WecomOutput(WechatOutput):
    @classmethod
    def name(cls) -> str:
        return "wecom"


class WecomInput(HttpChannel):
    """WeCom customer-service messages in through sync_msg, answers out through send_msg."""

    channel_name = "wecom"

    def __init__(
        self,
        settings: Settings | None = None,
        api: WecomApi | None = None,
        contacts: ContactRepository | None = None,
        cursors: CursorRepository | None = None,
        tokens: TokenCache | None = None,
        seen: SeenMessages | None = None,
        handoffs: HandoffRepository | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        wechat = self.settings.wechat
        shared_tokens, shared_seen = shared_state(self.settings.redis_url, self.settings.redis_key_prefix)
        self.seen = seen or shared_seen
        self.api = api or WecomApi(
            wechat.wecom_api_base, wechat.wecom_corp_id, wechat.wecom_secret, tokens or shared_tokens
        )
        self.codec = CallbackCodec(wechat.wecom_token, wechat.wecom_aes_key, wechat.wecom_corp_id, wecom=True)
        self.cursors = cursors or CursorRepository()
        self.handoffs = handoffs or HandoffRepository()
        contacts = contacts or ContactRepository(self.settings.customer_token_secret)
        self.conversations = WechatConversations(self.name(), self.settings, contacts, self._send)
        self.background = Background()
        self._locks: dict[str, asyncio.Lock] = {}

    def get_output_channel(self) -> OutputChannel:
        return WecomOutput(self.conversations)

    async def _send(self, contact: Contact, text: str) -> None:
        await self.api.send_text(contact.wechat_id, contact.open_kfid or "", text)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = Blueprint("kefu_wecom")

        @hook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.api.close()

        if not self.settings.wechat.wecom_enabled:
            logger.info("WeCom customer-service channel off: WECOM_TOKEN is not set.")
            return hook
        logger.info("WeCom customer-service channel on at /webhooks/wecom/webhook.")

        async def take(request: Request, event: BaseMessage) -> HTTPResponse:
            open_kfid = field(event, "OpenKfId")
            if field(event, "Event") == "kf_msg_or_event" and open_kfid and self._serves(open_kfid):
                self.background.start(
                    self.sync(on_new_message, open_kfid, field(event, "Token"), intents(request))
                )
            return response.text(SUCCESS)

        callback_routes(hook, "WeCom", self.codec, take)
        return hook

    def _serves(self, open_kfid: str) -> bool:
        return not self.settings.wechat.wecom_open_kfid or open_kfid == self.settings.wechat.wecom_open_kfid

    async def sync(
        self, on_new_message: OnNewMessage, open_kfid: str, token: str, known: frozenset[str]
    ) -> None:
        """Reads and answers the account's waiting messages, saving the cursor after each page."""
        lock = self._locks.setdefault(open_kfid, asyncio.Lock())
        async with lock:
            cursor = await asyncio.to_thread(self.cursors.get, open_kfid)
            for _ in range(MAX_PAGES):
                try:
                    page = await self.api.sync_msg(cursor, token, open_kfid)
                except WechatApiError as exc:
                    logger.error("WeCom sync_msg failed: %s", exc)
                    return
                for message in page.get("msg_list") or []:
                    if not isinstance(message, Mapping):
                        continue
                    try:
                        await self._take(on_new_message, message, known)
                    except Exception:  # one message's failure must not stop the cursor
                        logger.exception("WeCom: could not handle message %s.", message.get("msgid"))
                next_cursor = page.get("next_cursor")
                if isinstance(next_cursor, str) and next_cursor and next_cursor != cursor:
                    cursor = next_cursor
                    await asyncio.to_thread(self.cursors.save, open_kfid, cursor)
                if not page.get("has_more"):
                    return

    async def _take(
        self, on_new_message: OnNewMessage, message: Mapping[str, Any], known: frozenset[str]
    ) -> None:
        event = part(message, "event")
        customer = message.get("external_userid") or event.get("external_userid")
        open_kfid = message.get("open_kfid") or event.get("open_kfid")
        from_customer = message.get("origin") == FROM_CUSTOMER or event.get("event_type") == "enter_session"
        if not (from_customer and isinstance(customer, str) and customer and isinstance(open_kfid, str)):
            return
        msg_id = str(message.get("msgid") or "")
        if not msg_id or not await self.seen.first(seen_key("wecom", msg_id)):
            return
        contact = await asyncio.to_thread(
            self.conversations.contacts.contact_for, "wecom", customer, open_kfid
        )
        if self.settings.wechat.wecom_handoff_to_pool and await self._with_wecom_agents(contact):
            return  # WeCom's own agents hold the session: the bot stays quiet
        texts = await self.conversations.answer(on_new_message, contact, wecom_turn(message, known))
        await self.conversations.deliver(contact, texts)
        if self.settings.wechat.wecom_handoff_to_pool:
            await self._to_pool(contact)

    async def _with_wecom_agents(self, contact: Contact) -> bool:
        try:
            state = await self.api.service_state(contact.open_kfid or "", contact.wechat_id)
        except WechatApiError as exc:
            logger.error("WeCom service_state/get failed for %s: %s", contact.sender_id, exc)
            return False
        return state in (QUEUED_FOR_HUMAN, WITH_HUMAN)

    async def _to_pool(self, contact: Contact) -> None:
        """Moves a customer the assistant has queued for a human to WeCom's own agents' queue."""
        handoff = await asyncio.to_thread(self.handoffs.open_for_sender, contact.sender_id)
        if handoff is None:
            return
        try:
            await self.api.transfer(contact.open_kfid or "", contact.wechat_id, QUEUED_FOR_HUMAN)
        except WechatApiError as exc:
            logger.error("WeCom could not hand %s to a human: %s", contact.sender_id, exc)
            return
        logger.info("WeCom session of %s moved to WeCom's human agents.", contact.sender_id)
