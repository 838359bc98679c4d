"""The answer cache: answers to questions already asked, in Redis, behind a Bloom filter.

Keys hold the knowledge version, so an update of the knowledge makes every older answer unreachable
(they expire with their TTL). The Bloom filter lives in the process: a question it has never seen
skips the Redis round trip altogether. Redis being down makes answers slower, never failing: the
outage is logged once and the connection retried after ``retry_after`` seconds.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from typing import Callable, Protocol

from kefu.text import normalize_text

log = logging.getLogger(__name__)

_SPACES = re.compile(r"\s+")


def cache_question(question: str) -> str:
    """The question as the cache keys it: normalised (全角→半角, 繁→简), lower case, single spaces."""
    return _SPACES.sub(" ", normalize_text(question)).strip().lower()


class BloomFilter:
    """A fixed-size Bloom filter over strings: ``bits`` bits, ``hashes`` probes by double hashing."""

    def __init__(self, capacity: int = 100_000, error_rate: float = 0.01) -> None:
        if capacity <= 0 or not 0 < error_rate < 1:
            raise ValueError("a Bloom filter needs capacity > 0 and 0 < error_rate < 1")
        self.capacity = capacity
        self.bits = max(8, math.ceil(-capacity * math.log(error_rate) / math.log(2) ** 2))
        self.hashes = max(1, round(self.bits / capacity * math.log(2)))
        self._array = bytearray((self.bits + 7) // 8)
        self.count = 0

    def _positions(self, item: str) -> list[int]:
        digest = hashlib.blake2b(item.encode("utf-8"), digest_size=16).digest()
        first, second = int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little") | 1
        return [(first + i * second) % self.bits for i in range(self.hashes)]

    def add(self, item: str) -> None:
        for position in self._positions(item):
            self._array[position >> 3] |= 1 << (position & 7)
        self.count += 1

    def __contains__(self, item: str) -> bool:
        return all(self._array[p >> 3] & (1 << (p & 7)) for p in self._positions(item))

    def clear(self) -> None:
        self._array = bytearray(len(self._array))
        self.count = 0


class AnswerStore(Protocol):
    """Where cached answers live: strings by key, with a time to live."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl: int) -> None: ...


class InMemoryAnswerStore:
    """A dict with expiry, for unit tests and single-process use."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._items: dict[str, tuple[float, str]] = {}

    def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None or item[0] <= self._clock():
            self._items.pop(key, None)
            return None
        return item[1]

    def set(self, key: str, value: str, ttl: int) -> None:
        self._items[key] = (self._clock() + ttl, value)


class RedisAnswerStore:
    """Answers in Redis at ``url``. Errors never propagate: while Redis is unreachable every call is
    a miss, logged once per outage, and the connection is tried again after ``retry_after`` s."""

    def __init__(self, url: str, retry_after: float = 30.0, timeout: float = 0.3) -> None:
        import redis

        # from_url validates the URL without connecting: a malformed REDIS_URL fails at start-up.
        self._client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._where = url.rsplit("@", 1)[-1]  # no password in the logs
        self._retry_after = retry_after
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            if self._down_until == 0.0:
                log.warning(
                    "Redis answer cache at %s unreachable (%s); answering without it, retrying every %.0fs",
                    self._where,
                    exc,
                    self._retry_after,
                )
            self._down_until = time.monotonic() + self._retry_after

    def _recovered(self) -> None:
        if self._down_until:
            with self._lock:
                if self._down_until:
                    log.warning("Redis answer cache at %s is back", self._where)
                    self._down_until = 0.0

    def get(self, key: str) -> str | None:
        if not self.available:
            return None
        try:
            value = self._client.get(key)
        except self._errors as exc:
            self._failed(exc)
            return None
        self._recovered()
        return None if value is None else value.decode("utf-8")

    def set(self, key: str, value: str, ttl: int) -> None:
        if not self.available:
            return
        try:
            self._client.set(key, value.encode("utf-8"), ex=ttl)
        except self._errors as exc:
            self._failed(exc)
            return
        self._recovered()


class AnswerCache:
    """Cached answers (serialised by the caller) by knowledge version, threshold and question."""

    def __init__(
        self,
        store: AnswerStore,
        ttl: int = 3600,
        prefix: str = "kefu:kb:answer:",
        bloom: BloomFilter | None = None,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.prefix = prefix
        self.bloom = bloom or BloomFilter()
        self._lock = threading.Lock()
        self.lookups = 0  # how many questions went to the store (the others skipped it)

    def key(self, version: str, question: str, min_score: float | None) -> str:
        digest = hashlib.sha1(cache_question(question).encode("utf-8")).hexdigest()
        return f"{self.prefix}{version}:{'' if min_score is None else min_score}:{digest}"

    def get(self, key: str) -> str | None:
        """The cached value, or None; a key the Bloom filter has never seen skips the store."""
        with self._lock:
            if key not in self.bloom:
                return None
            self.lookups += 1
        return self.store.get(key)

    def put(self, key: str, value: str) -> None:
        with self._lock:
            if self.bloom.count >= self.bloom.capacity:
                self.bloom.clear()  # full: its false-positive rate would climb; start afresh
            self.bloom.add(key)
        self.store.set(key, value, self.ttl)
