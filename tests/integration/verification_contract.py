"""What every shared store of the verification lock-out must do (kefu.security.verification).

Used by the Redis test (tests/integration/security) and the database test (tests/integration/db).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from kefu.security.verification import AttemptStore, LockoutPolicy, VerificationGuard, client_keys

POLICY = LockoutPolicy(order_failures=3, client_failures=10, lock_seconds=900, max_lock_seconds=3600)
NOW = 1_800_000_000


def check_lockout_survives_new_stores(make_store: Callable[[], AttemptStore]) -> None:
    """Two guards over two stores (two servers, or before and after a restart) share every count."""
    first = VerificationGuard(make_store(), POLICY, clock=lambda: NOW)
    first.failed("LT2026110104", client_keys("attacker-1", "203.0.113.9"))
    first.failed("LT2026110104", client_keys("attacker-2", "203.0.113.9"))
    second = VerificationGuard(make_store(), POLICY, clock=lambda: NOW + 1)
    locked = second.failed("LT2026110104", client_keys("attacker-3", "198.51.100.4"))
    assert not locked.allowed and locked.wait_seconds == 900
    assert not first.check("LT2026110104", client_keys("someone-new", None)).allowed
    assert [lock.key for lock in first.lockouts()] == ["order:LT2026110104"]
    assert second.check(None, ["ip:203.0.113.9"]).remaining == 8  # 2 of the client's 10 used

    later = VerificationGuard(make_store(), POLICY, clock=lambda: NOW + 901)
    assert later.check("LT2026110104", []).allowed
    for _ in range(3):
        relocked = later.failed("LT2026110104", [])
    assert relocked.wait_seconds == 1800  # the second lock in a row: twice as long

    assert later.clear("order:LT2026110104") and not later.clear("order:LT2026110104")
    assert later.check("LT2026110104", []).remaining == 3


def check_success_forgets_the_orders_failures(make_store: Callable[[], AttemptStore]) -> None:
    guard = VerificationGuard(make_store(), POLICY, clock=lambda: NOW)
    guard.failed("LT2026110103", ["sender:x"])
    guard.failed("LT2026110103", ["sender:x"])
    guard.succeeded("LT2026110103")
    guard.succeeded("LT2099999999")  # nothing recorded: nothing to forget, no error
    assert guard.check("LT2026110103", []).remaining == 3
    assert guard.check(None, ["sender:x"]).remaining == 8


def check_concurrent_failures_all_count(make_store: Callable[[], AttemptStore], threads: int = 8) -> None:
    """Wrong answers sent at once from many servers: none is lost, the order locks."""
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def answer(n: int) -> None:
        guard = VerificationGuard(make_store(), LockoutPolicy(order_failures=threads), clock=lambda: NOW)
        start.wait()
        try:
            guard.failed("LT2026110105", [f"sender:{n}"])
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    workers = [threading.Thread(target=answer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    state = make_store().get("order:LT2026110105")
    assert state is not None and state.locks == 1 and state.failures == 0
