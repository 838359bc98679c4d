"""What both WeChat channels do with a customer's turn: bind, ask the assistant, render, deliver.

The protocol is in :mod:`kefu.wechat`; this is the part that talks to Rasa. An OpenID is never a
proof of identity: a contact counts as the shop customer only once bound with a signed customer
token (``绑定 <token>``), and then each message carries a fresh short-lived ``user_token``, so the
actions recognise the customer exactly as on the web (``actions/customer.py``). Without a binding
the order form asks for the order's phone digits, as everywhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from kefu.channels.message_guard import FAILURE_REPLY, checked_max_chars, guard_message
from kefu.security.ratelimit import RATE_LIMITED_REPLY, RateLimiter, get_rate_limiter
from kefu.security.tokens import customer_of, token_for
from kefu.settings import Settings
from kefu.wechat.replies import chosen, render
from kefu.wechat.store import Contact, ContactRepository
from kefu.wechat.turns import BIND_FAILED, BOUND, UNBOUND, Turn

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
Send = Callable[[Contact, str], Awaitable[None]]
# Lifetime of the user_token a bound contact's message carries (one turn needs seconds).
TURN_TOKEN_SECONDS = 600


class WechatConversations:
    """One channel's turns: ``send`` delivers a text to a contact through WeChat's API."""

    def __init__(
        self,
        channel: str,
        settings: Settings,
        contacts: ContactRepository,
        send: Send,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.channel = channel
        self.settings = settings
        self.contacts = contacts
        self.send = send
        self.limiter = limiter or get_rate_limiter()
        self.max_chars = checked_max_chars(settings.max_message_chars)

    async def answer(self, on_new_message: OnNewMessage, contact: Contact, turn: Turn) -> list[str]:
        """The texts that answer ``turn`` (empty: nothing to say, e.g. an agent holds the chat)."""
        if turn.bind_token is not None:
            return [await self._bind(contact, turn.bind_token)]
        if turn.unbind:
            await asyncio.to_thread(self.contacts.bind, contact.sender_id, None)
            logger.info("WeChat contact %s unbound.", contact.sender_id)
            return [UNBOUND]
        if turn.reply is not None or turn.text is None:
            return [turn.reply] if turn.reply else []
        text = chosen(turn.text, contact.choices) or turn.text
        refused = guard_message(text, self.max_chars)
        if refused is not None:
            return [refused]
        # Per conversation only: every WeChat message comes from a few WeChat server addresses.
        decision = await self.limiter.hit(
            f"chat-sender:{contact.sender_id}", self.settings.chat_rate_per_minute
        )
        if not decision.allowed:
            return [RATE_LIMITED_REPLY.format(seconds=decision.retry_after)]
        rendered = render(await self._ask(on_new_message, contact, text))
        if rendered.choices or contact.choices:
            await asyncio.to_thread(self.contacts.offer_choices, contact.sender_id, rendered.choices)
        return rendered.texts

    async def _bind(self, contact: Contact, token: str) -> str:
        user_id = customer_of(token, self.settings)
        if user_id is None:
            logger.info("WeChat contact %s sent a binding code that is not valid.", contact.sender_id)
            return BIND_FAILED
        await asyncio.to_thread(self.contacts.bind, contact.sender_id, user_id)
        logger.info("WeChat contact %s bound to a shop customer.", contact.sender_id)
        return BOUND

    def metadata(self, contact: Contact) -> dict[str, Any]:
        """The message metadata: a bound contact's short-lived customer token."""
        if not contact.user_id:
            return {}
        token = token_for(contact.user_id, self.settings, TURN_TOKEN_SECONDS)
        return {"user_token": token}

    async def _ask(self, on_new_message: OnNewMessage, contact: Contact, text: str) -> list[dict]:
        collector = CollectingOutputChannel()
        message = UserMessage(
            text, collector, contact.sender_id, input_channel=self.channel, metadata=self.metadata(contact)
        )
        try:
            await on_new_message(message)
        except Exception:
            logger.exception("Failed to handle a %s message from %s.", self.channel, contact.sender_id)
            return collector.messages or [{"recipient_id": contact.sender_id, "text": FAILURE_REPLY}]
        return collector.messages

    async def deliver(self, contact: Contact, texts: list[str]) -> None:
        """Sends ``texts`` in order through WeChat's API; a failure is logged, the rest dropped."""
        for text in texts:
            try:
                await self.send(contact, text)
            except Exception as exc:
                logger.error("Could not send a %s reply to %s: %s", self.channel, contact.sender_id, exc)
                return


class Background:
    """Tasks that outlive the request that started them (kept referenced until they finish)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def start(self, coroutine: Awaitable[Any]) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float = 10.0) -> None:
        """Waits (at most ``timeout`` s) for the tasks running now: tests and shutdown."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
