"""Staff's view of the phone-verification lock-outs (``kefu.security.verification``), as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kefu.security.verification import Attempts

MAX_KEY_CHARS = 100


def lock_json(lock: Attempts, now: float) -> dict[str, Any]:
    """One lock: what is locked (an order, a client address, a conversation's hashed sender id)."""
    kind, _, subject = lock.key.partition(":")
    until = dt.datetime.fromtimestamp(lock.locked_until, dt.timezone.utc)
    return {
        "key": lock.key,
        "kind": kind,
        "subject": subject,
        "locks": lock.locks,
        "locked_until": until.isoformat(),
        "seconds_left": max(0, int(lock.locked_until - now)),
    }


def valid_key(key: str) -> bool:
    """A key as the lock-out writes it: ``order:``, ``ip:`` or ``sender:`` and a value."""
    kind, _, subject = key.partition(":")
    return kind in ("order", "ip", "sender") and bool(subject) and len(key) <= MAX_KEY_CHARS
