"""Failed proofs of ownership (the phone's last 4 digits), counted per order and per client, shared.

A wrong answer counts against the order (``order:<order id>``, known or not) and against every key of
the client who gave it: ``ip:<address>`` when the channel knows the customer's address (the server
writes it into the message metadata as ``client_ip``) and ``sender:<hash of the sender id>``. A key
locks after ``order_failures`` (per order) or ``client_failures`` (per client, across orders) wrong
answers; each further lock of the same key lasts twice as long, up to ``max_lock_seconds``; a key
with no failure for ``forget_seconds`` starts over. While the order or the client is locked, digits
are not checked at all. The counts live in Redis (``REDIS_URL``) or in the database, so a new sender
id, the order number sent again or a restart gives no fresh tries.

The balance with the customers this protects: an attacker can keep an order's phone check locked,
so a lock never lasts longer than ``max_lock_seconds`` (4 hours by default) after the last wrong
answer. A customer who already proved ownership keeps it in their own conversation (its
``verified_orders``, until the session expires), a logged-in customer is never asked for digits and
so never locked out, and staff can see and lift locks in the admin API (``/verification-locks``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from kefu.security.attempts import (
    Attempts,
    AttemptStore,
    LockoutPolicy,
    VerificationUnavailable,
    after_failure,
)
from kefu.security.masking import mask_text

__all__ = [
    "CLIENT_IP_KEY",
    "AttemptStore",
    "Attempts",
    "InMemoryAttemptStore",
    "LockoutPolicy",
    "RedisAttemptStore",
    "Verdict",
    "VerificationGuard",
    "VerificationUnavailable",
    "after_failure",
    "client_keys",
    "describe_wait",
    "get_verification_guard",
]

logger = logging.getLogger(__name__)

# The message metadata key the server sets to the customer's address; a client's own value is replaced.
CLIENT_IP_KEY = "client_ip"


class InMemoryAttemptStore:
    """Records in this process: unit tests only (one process's counts protect nothing)."""

    def __init__(self) -> None:
        self._records: dict[str, Attempts] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Attempts | None:
        return self._records.get(key)

    def record_failure(self, key: str, policy: LockoutPolicy, now: int) -> Attempts:
        with self._lock:
            state = after_failure(self._records.get(key) or Attempts(key), policy, now)
            self._records[key] = state
            return state

    def forget_failures(self, key: str) -> None:
        with self._lock:
            if key in self._records:
                self._records[key] = replace(self._records[key], failures=0)

    def clear(self, key: str) -> bool:
        with self._lock:
            return self._records.pop(key, None) is not None

    def locked(self, now: int) -> list[Attempts]:
        return [state for state in self._records.values() if state.locked(now)]


class RedisAttemptStore:
    """Records in Redis, hashes under ``<REDIS_KEY_PREFIX>:verification:<key>``, shared by every process.

    Each change is a WATCH/MULTI transaction over :func:`after_failure`, retried when another process
    changed the record in between; a record expires once it could no longer lock or be remembered.
    """

    FIELDS = ("failures", "locks", "locked_until", "last_failure")

    def __init__(self, url: str, prefix: str, policy: LockoutPolicy, client: Any = None) -> None:
        self._url = url
        self._prefix = f"{prefix}:verification:"
        self._ttl = policy.forget_seconds + policy.max_lock_seconds
        self._client = client

    def _redis(self) -> Any:
        if self._client is None:
            from kefu.runtime.redis import redis_client

            self._client = redis_client(self._url, decode_responses=True)
        return self._client

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        import redis

        try:
            yield
        except redis.RedisError as exc:
            raise VerificationUnavailable(f"verification records unavailable: {type(exc).__name__}") from exc

    def _read(self, source: Any, key: str) -> Attempts | None:
        values = source.hmget(self._prefix + key, *self.FIELDS)
        if values[0] is None:
            return None
        return Attempts(key, *(int(value or 0) for value in values))

    def get(self, key: str) -> Attempts | None:
        with self._unavailable():
            return self._read(self._redis(), key)

    def record_failure(self, key: str, policy: LockoutPolicy, now: int) -> Attempts:
        name = self._prefix + key

        def change(pipe: Any) -> Attempts:
            state = after_failure(self._read(pipe, key) or Attempts(key), policy, now)
            pipe.multi()
            pipe.hset(name, mapping={field: getattr(state, field) for field in self.FIELDS})
            pipe.expire(name, self._ttl)
            return state

        with self._unavailable():
            return self._redis().transaction(change, name, value_from_callable=True)

    def forget_failures(self, key: str) -> None:
        name = self._prefix + key
        script = "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'failures', 0) end"
        with self._unavailable():
            self._redis().eval(script, 1, name)

    def clear(self, key: str) -> bool:
        with self._unavailable():
            return bool(self._redis().delete(self._prefix + key))

    def locked(self, now: int) -> list[Attempts]:
        found = []
        with self._unavailable():
            client = self._redis()
            for name in client.scan_iter(match=self._prefix + "*", count=500):
                state = self._read(client, name[len(self._prefix) :])
                if state is not None and state.locked(now):
                    found.append(state)
        return found


@dataclass(frozen=True)
class Verdict:
    """May digits be checked now; if not, for how long not; if so, how many wrong answers are left."""

    allowed: bool
    wait_seconds: int = 0
    remaining: int = 0


def client_keys(sender_id: str | None, ip: str | None) -> list[str]:
    """The keys a caller is counted under: their address when known, and their sender id (hashed)."""
    keys = [f"ip:{ip.strip()[:64]}"] if ip and ip.strip() and ip.strip() != "unknown" else []
    if sender_id:
        keys.append("sender:" + hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:32])
    return keys


def describe_wait(seconds: int) -> str:
    """A wait in words for the customer: ``15分钟``, ``2小时``, ``1小时30分钟``."""
    minutes = max(1, math.ceil(seconds / 60))
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{minutes}分钟"
    return f"{hours}小时{rest}分钟" if rest else f"{hours}小时"


class VerificationGuard:
    """Decides whether a phone-digit check may run, and records how it went."""

    def __init__(
        self,
        store: AttemptStore,
        policy: LockoutPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.policy = policy or LockoutPolicy()
        self._clock = clock

    def check(self, order_id: str | None, clients: Sequence[str]) -> Verdict:
        """Before checking digits for ``order_id`` (None: the client alone) from ``clients``."""
        now = int(self._clock())
        keys = [f"order:{order_id}"] if order_id else []
        states = [self._store.get(key) or Attempts(key) for key in [*keys, *clients]]
        return self._verdict(states, now)

    def failed(self, order_id: str, clients: Sequence[str]) -> Verdict:
        """Counts a wrong answer for ``order_id`` (existing or not) from ``clients``; the verdict after it."""
        now = int(self._clock())
        states = [
            self._store.record_failure(key, self.policy, now) for key in [f"order:{order_id}", *clients]
        ]
        verdict = self._verdict(states, now)
        for state in states:
            if state.locked(now) and state.last_failure == now and state.failures == 0:  # locked just now
                logger.warning(
                    "Phone verification locked: %s for %d s (lock no. %d), wrong answer for %s.",
                    _masked(state.key),
                    state.locked_until - now,
                    state.locks,
                    _masked(f"order:{order_id}"),
                )
        return verdict

    def succeeded(self, order_id: str) -> None:
        """The right digits: the order's wrong answers so far no longer count (its lock history does)."""
        self._store.forget_failures(f"order:{order_id}")

    def lockouts(self) -> list[Attempts]:
        """The keys locked now, the longest lock first."""
        return sorted(self._store.locked(int(self._clock())), key=lambda s: -s.locked_until)

    def clear(self, key: str) -> bool:
        """Lifts ``key``'s lock and forgets its history (staff, from the admin API)."""
        cleared = self._store.clear(key)
        if cleared:
            logger.warning("Phone verification lock cleared by staff: %s.", _masked(key))
        return cleared

    def _verdict(self, states: Sequence[Attempts], now: int) -> Verdict:
        waits = [state.locked_until - now for state in states if state.locked(now)]
        if waits:
            return Verdict(False, wait_seconds=max(waits))
        fresh = [
            self.policy.threshold(s.key)
            - (0 if now - s.last_failure >= self.policy.forget_seconds else s.failures)
            for s in states
        ]
        return Verdict(True, remaining=min(fresh, default=self.policy.order_failures))


def _masked(key: str) -> str:
    """A key fit for the log: the order id's middle and the address's last part hidden."""
    kind, _, value = key.partition(":")
    if kind == "order" and len(value) > 6:
        return f"order {value[:4]}****{value[-2:]}"
    if kind == "ip":
        head = value.rsplit(".", 1)[0] if "." in value else value.rsplit(":", 1)[0]
        return f"client {head}.*"
    return mask_text(f"{kind} {value[:8]}…")


_guard: VerificationGuard | None = None
_guard_lock = threading.Lock()


def get_verification_guard() -> VerificationGuard:
    """The process's guard: records in Redis when ``REDIS_URL`` is set, else in the database."""
    global _guard
    with _guard_lock:
        if _guard is None:
            from kefu.settings import get_settings

            settings = get_settings()
            policy = LockoutPolicy(
                order_failures=settings.verification_order_failures,
                client_failures=settings.verification_client_failures,
                lock_seconds=int(settings.verification_lock_minutes * 60),
                max_lock_seconds=int(settings.verification_max_lock_minutes * 60),
            )
            store: AttemptStore
            if settings.redis_url:
                store = RedisAttemptStore(settings.redis_url, settings.redis_key_prefix, policy)
            else:
                from kefu.db.verification import SqlAttemptStore

                store = SqlAttemptStore()
            _guard = VerificationGuard(store, policy)
        return _guard
