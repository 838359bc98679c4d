"""The phone-verification attempt records and the lock-out rule, shared by every store of them.

:mod:`kefu.security.verification` counts wrong answers and decides; the stores keep the records: in
this process or Redis (there) or in the database (:mod:`kefu.db.verification`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol


class VerificationUnavailable(RuntimeError):
    """The attempt records can't be read or written (Redis or the database down)."""


@dataclass(frozen=True)
class LockoutPolicy:
    order_failures: int = 3
    client_failures: int = 10
    lock_seconds: int = 15 * 60
    max_lock_seconds: int = 4 * 3600
    forget_seconds: int = 24 * 3600

    def threshold(self, key: str) -> int:
        return self.order_failures if key.startswith("order:") else self.client_failures


@dataclass(frozen=True)
class Attempts:
    """One key's record: wrong answers since its last lock, how often it locked, until when."""

    key: str
    failures: int = 0
    locks: int = 0
    locked_until: int = 0  # Unix seconds
    last_failure: int = 0  # Unix seconds

    def locked(self, now: float) -> bool:
        return self.locked_until > now


def after_failure(state: Attempts, policy: LockoutPolicy, now: int) -> Attempts:
    """``state`` after one more wrong answer; at the threshold, locked twice as long as last time."""
    if state.last_failure and now - state.last_failure >= policy.forget_seconds:
        state = Attempts(state.key)
    failures = state.failures + 1
    if failures < policy.threshold(state.key):
        return replace(state, failures=failures, last_failure=now)
    locks = state.locks + 1
    seconds = min(policy.lock_seconds * 2 ** min(locks - 1, 30), policy.max_lock_seconds)
    return Attempts(state.key, 0, locks, now + seconds, now)


class AttemptStore(Protocol):
    """Where the records live; ``record_failure`` applies :func:`after_failure` atomically."""

    def get(self, key: str) -> Attempts | None: ...

    def record_failure(self, key: str, policy: LockoutPolicy, now: int) -> Attempts: ...

    def forget_failures(self, key: str) -> None:
        """The wrong answers since the last lock are forgotten (the lock history stays)."""

    def clear(self, key: str) -> bool:
        """Removes the record, lock included; False when there was none."""

    def locked(self, now: int) -> list[Attempts]: ...
