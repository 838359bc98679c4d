"""Request rate limits: so many hits per key per window, in Redis or in this process.

A fixed window per key (``<scope>:<sender | token | ip>``): simple, one round trip to Redis
(``INCR`` and ``EXPIRE`` in one pipeline), shared by every worker. Refused hits get the seconds until
the window ends, for a ``Retry-After`` header. Redis is used when ``REDIS_URL`` is set; when Redis
then fails, the hit is allowed and the failure logged (a limiter must not take the shop down).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # whole seconds, at least 1 when refused


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> Decision: ...


def _bucket(key: str, window_seconds: int, now: float) -> tuple[str, int]:
    window = int(now // window_seconds)
    retry_after = max(1, math.ceil((window + 1) * window_seconds - now))
    # Keys may hold tokens or sender ids: hash them, so that none is stored in the clear.
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"{digest}:{window}", retry_after


class InMemoryRateLimiter:
    """Counts in this process (one worker, tests and development)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()  # not asyncio's: one limiter serves every event loop

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> Decision:
        now = self._clock()
        bucket, retry_after = _bucket(key, window_seconds, now)
        with self._lock:
            if len(self._counts) > 100_000:  # old windows: forget them all rather than grow
                current = f":{int(now // window_seconds)}"
                self._counts = {k: v for k, v in self._counts.items() if k.endswith(current)}
            count = self._counts.get(bucket, 0) + 1
            self._counts[bucket] = count
        return Decision(True) if count <= limit else Decision(False, retry_after)


class RedisRateLimiter:
    """Counts in Redis, shared by every process of the deployment."""

    def __init__(self, url: str, prefix: str = "kefu", clock: Callable[[], float] = time.time) -> None:
        self._url = url
        self._prefix = f"{prefix}:ratelimit:"
        self._clock = clock
        self._client: Any = None

    def _redis(self) -> Any:
        if self._client is None:
            import redis.asyncio

            self._client = redis.asyncio.from_url(self._url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return self._client

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> Decision:
        bucket, retry_after = _bucket(key, window_seconds, self._clock())
        name = self._prefix + bucket
        try:
            async with self._redis().pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(name).expire(name, window_seconds + 1).execute()
        except Exception as exc:  # redis errors and timeouts
            logger.error("Rate limiter: Redis failed (%s); letting the request through.", type(exc).__name__)
            return Decision(True)
        return Decision(True) if int(count) <= limit else Decision(False, retry_after)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


_redis_limiter: RedisRateLimiter | None = None


def get_rate_limiter() -> RateLimiter:
    """A limiter for one channel: the process's Redis limiter when ``REDIS_URL`` is set (counters
    shared by every server), else a new in-memory one (counters of this channel in this process)."""
    global _redis_limiter
    from kefu.settings import get_settings

    settings = get_settings()
    if not settings.redis_url:
        return InMemoryRateLimiter()
    if _redis_limiter is None:
        _redis_limiter = RedisRateLimiter(settings.redis_url, settings.redis_key_prefix)
    return _redis_limiter


RATE_LIMITED_REPLY = "您发送得太快了，请{seconds}秒后再试～"
# Many customers may share one address (an office, a mobile carrier's NAT): the per-IP allowance is
# this many senders' worth.
IP_SHARE = 5


async def check_chat(sender_id: str, ip: str | None, per_minute: int, limiter: RateLimiter) -> Decision:
    """A chat message's rate check: per conversation, then per client address."""
    decision = await limiter.hit(f"chat-sender:{sender_id}", per_minute)
    if decision.allowed and ip:
        decision = await limiter.hit(f"chat-ip:{ip}", per_minute * IP_SHARE)
    return decision


def client_ip(request: Any) -> str:
    """The client's address of a Sanic request, the key of every per-IP limit.

    The forwarded address only when Sanic is told of a trusted proxy (``SANIC_REAL_IP_HEADER``,
    ``SANIC_PROXIES_COUNT`` or ``SANIC_FORWARDED_SECRET``: then ``remote_addr`` holds it); else the
    connection's peer (``request.ip``), so a client cannot pick its own bucket with a header."""
    return getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "unknown"
