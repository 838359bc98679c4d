"""Who may read and write a conversation: its owner, recorded by the server when it is created.

A sender id names a conversation but proves nothing: ids can be guessed, shared and logged. When a
conversation starts, the channel records its :class:`ConversationOwner` here, in state shared by
every server process (Redis when ``REDIS_URL`` is set, this process's memory otherwise, like the
tracker store); clients can never write it. Later messages and reads must bring the proof the
owner names:

- the **conversation key** issued to the client with its first reply (REST: the
  ``X-Conversation-Key`` response header; socket.io: the ``session_key`` event); only its SHA-256
  is stored;
- or, for a conversation opened with a valid customer token, a valid token of the same customer;
- SDK and admin sessions have no key: only their own API (the owning API key, the owning staff
  account) may use them, never the REST or socket.io channels.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

logger = logging.getLogger(__name__)

KEY_HEADER = "X-Conversation-Key"
MISSING_PROOF = (
    "继续这个会话需要它的会话密钥：请带上首次回复时返回的 X-Conversation-Key，"
    "或换一个新的 sender 开始新会话。 "
    "This conversation needs its key: send the X-Conversation-Key returned with its first reply, "
    "or start a new conversation with a new sender id."
)
WRONG_PROOF = (
    "会话密钥不正确，无法访问这个会话。 The conversation key (or customer token) does not match this "
    "conversation."
)


@dataclass(frozen=True)
class ConversationOwner:
    """The server's record of who started a conversation, and through which channel."""

    channel: str
    key_hash: str | None = None  # SHA-256 (hex) of the conversation key the client holds
    customer: str | None = None  # user id of the customer token it was opened with
    app: str | None = None  # SDK application
    staff: str | None = None  # admin account
    session: dict[str, Any] | None = None  # the session as the SDK or admin API shows it

    def admits(self, key: str | None, customer: str | None) -> bool:
        """True when ``key`` is this conversation's key or ``customer`` the customer who opened it."""
        if key and self.key_hash and hmac.compare_digest(hash_key(key), self.key_hash):
            return True
        return bool(customer and self.customer and hmac.compare_digest(customer, self.customer))

    def dumps(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str | bytes) -> ConversationOwner:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class Admission:
    """The answer to "may this client use this conversation?"; ``issued_key`` is set for a new one."""

    allowed: bool
    status: int = 200
    error: str = ""
    issued_key: str | None = None


def new_key() -> str:
    """A fresh conversation key (256 random bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


class OwnerRegistry(Protocol):
    async def get(self, conversation_id: str) -> ConversationOwner | None: ...

    async def add(self, conversation_id: str, owner: ConversationOwner) -> bool:
        """Records ``owner`` unless the conversation has one already; True when it was recorded."""
        ...


class InMemoryOwnerRegistry:
    """Owners in this process's memory (one server process, with the in-memory tracker store)."""

    def __init__(self) -> None:
        self._owners: dict[str, ConversationOwner] = {}

    async def get(self, conversation_id: str) -> ConversationOwner | None:
        return self._owners.get(conversation_id)

    async def add(self, conversation_id: str, owner: ConversationOwner) -> bool:
        if conversation_id in self._owners:
            return False
        self._owners[conversation_id] = owner
        return True


class RedisOwnerRegistry:
    """Owners in Redis under ``<prefix>:owner:<conversation id>``, kept as long as idle conversations."""

    def __init__(self, client: Any, prefix: str, expiry_seconds: int) -> None:
        self._client = client  # a redis.Redis (synchronous: called in a thread)
        self._prefix = f"{prefix}:owner:"
        self._expiry = expiry_seconds

    async def get(self, conversation_id: str) -> ConversationOwner | None:
        def read() -> Any:
            key = self._prefix + conversation_id
            pipe = self._client.pipeline(transaction=False)
            pipe.get(key)
            pipe.expire(key, self._expiry)  # in use: kept as long as its conversation
            return pipe.execute()[0]

        raw = await asyncio.to_thread(read)
        return ConversationOwner.loads(raw) if raw else None

    async def add(self, conversation_id: str, owner: ConversationOwner) -> bool:
        key = self._prefix + conversation_id
        done = await asyncio.to_thread(self._client.set, key, owner.dumps(), nx=True, ex=self._expiry)
        return bool(done)


async def admit(
    registry: OwnerRegistry,
    conversation_id: str,
    channel: str,
    key: str | None,
    customer: str | None,
    exists: Callable[[str], Awaitable[bool]],
) -> Admission:
    """Whether a client bringing ``key`` (and the customer id of its valid token, if any) may post
    into ``conversation_id``; a conversation nobody owns yet is opened for it with a new key.

    A conversation that exists without an owner (started before owners were recorded) is refused:
    its first poster would otherwise become its owner.
    """
    owner = await registry.get(conversation_id)
    if owner is None:
        if await exists(conversation_id):
            return refused(key, customer)
        issued = new_key()
        if await registry.add(conversation_id, ConversationOwner(channel, hash_key(issued), customer)):
            logger.debug("Conversation %s opened over %s.", conversation_id, channel)
            return Admission(True, issued_key=issued)
        owner = await registry.get(conversation_id)  # another request opened it just now
    if owner is not None and owner.admits(key, customer):
        return Admission(True)
    return refused(key, customer)


async def admit_read(
    registry: OwnerRegistry, conversation_id: str, key: str | None, customer: str | None
) -> Admission:
    """Whether a client may read ``conversation_id``: only with its owner's proof, unknown ids alike."""
    owner = await registry.get(conversation_id)
    if owner is not None and owner.admits(key, customer):
        return Admission(True)
    return refused(key, customer)


def refused(key: str | None, customer: str | None) -> Admission:
    """401 when the client brought no proof, 403 when its proof is not this conversation's."""
    if key or customer:
        return Admission(False, 403, WRONG_PROOF)
    return Admission(False, 401, MISSING_PROOF)


_registry: OwnerRegistry | None = None


def get_owner_registry() -> OwnerRegistry:
    """The process's registry: in Redis when ``REDIS_URL`` is set (shared by every server), else in
    memory (shared by this process's channels)."""
    global _registry
    if _registry is None:
        from kefu.runtime.redis import check_redis, redis_client
        from kefu.settings import get_settings

        settings = get_settings()
        if settings.redis_url:
            client = redis_client(settings.redis_url, decode_responses=True)
            check_redis(settings.redis_url, client)
            expiry = round(settings.redis_tracker_expiry_days * 24 * 3600)
            _registry = RedisOwnerRegistry(client, settings.redis_key_prefix, expiry)
        else:
            _registry = InMemoryOwnerRegistry()
    return _registry
