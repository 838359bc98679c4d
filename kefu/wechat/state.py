"""State every assistant process shares: WeChat's access_token and which messages were taken.

With ``REDIS_URL`` set both live in Redis; without it the token is cached per process and the
seen messages are recorded in the SQL database (:class:`kefu.wechat.store.SqlSeenMessages`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Any, Protocol

from kefu.wechat.store import SqlSeenMessages

logger = logging.getLogger(__name__)

SEEN_TTL_SECONDS = 24 * 3600


class TokenCache(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_seconds: int) -> None: ...

    async def drop(self, key: str, value: str) -> None: ...


class SeenMessages(Protocol):
    async def first(self, key: str) -> bool: ...


def seen_key(*parts: str) -> str:
    """A fixed-length key for a message's identity (its ids are never stored in the clear)."""
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


class MemoryTokenCache:
    """One process's tokens (no Redis)."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}

    async def get(self, key: str) -> str | None:
        value, expires = self._tokens.get(key, ("", 0.0))
        return value if value and expires > time.monotonic() else None

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self._tokens[key] = (value, time.monotonic() + ttl_seconds)

    async def drop(self, key: str, value: str) -> None:
        if self._tokens.get(key, ("",))[0] == value:
            self._tokens.pop(key, None)


class _Redis:
    def __init__(self, url: str, prefix: str) -> None:
        self._url = url
        self.prefix = prefix
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import redis.asyncio

            self._client = redis.asyncio.from_url(self._url, socket_timeout=2.0, socket_connect_timeout=2.0)
        return self._client


class RedisTokenCache(_Redis):
    """Tokens shared by every process through Redis."""

    async def get(self, key: str) -> str | None:
        value = await self.client().get(f"{self.prefix}:wechat:token:{key}")
        return value.decode() if value else None

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        await self.client().set(f"{self.prefix}:wechat:token:{key}", value, ex=max(1, ttl_seconds))

    async def drop(self, key: str, value: str) -> None:
        name = f"{self.prefix}:wechat:token:{key}"
        if await self.get(key) == value:  # another process may have stored a fresh one meanwhile
            await self.client().delete(name)


class RedisSeenMessages(_Redis):
    """Deduplication through Redis ``SET NX``: the first process to set a key takes the message."""

    async def first(self, key: str) -> bool:
        try:
            taken = await self.client().set(
                f"{self.prefix}:wechat:seen:{key}", b"1", nx=True, ex=SEEN_TTL_SECONDS
            )
        except Exception as exc:
            # Answering twice beats never answering: the message is taken, the outage logged.
            logger.error("WeChat deduplication: Redis failed (%s); taking the message.", type(exc).__name__)
            return True
        return bool(taken)


class SqlSeen:
    """:class:`kefu.wechat.store.SqlSeenMessages` off the event loop."""

    def __init__(self, store: SqlSeenMessages | None = None) -> None:
        self._store = store or SqlSeenMessages()

    async def first(self, key: str) -> bool:
        return await asyncio.to_thread(self._store.first, key)


def shared_state(redis_url: str, prefix: str) -> tuple[TokenCache, SeenMessages]:
    """The token cache and deduplication for this deployment (Redis when ``redis_url`` is set)."""
    if redis_url:
        return RedisTokenCache(redis_url, prefix), RedisSeenMessages(redis_url, prefix)
    return MemoryTokenCache(), SqlSeen()
