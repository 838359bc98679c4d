"""The verification lock-out's rules, on the in-memory store (the shared stores: tests/integration)."""

import logging

import pytest

from kefu.security.verification import (
    Attempts,
    InMemoryAttemptStore,
    LockoutPolicy,
    VerificationGuard,
    after_failure,
    client_keys,
    describe_wait,
)

POLICY = LockoutPolicy(order_failures=3, client_failures=5, lock_seconds=900, max_lock_seconds=3600)
ORDER = "LT2026110104"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guard(clock) -> VerificationGuard:
    return VerificationGuard(InMemoryAttemptStore(), POLICY, clock)


def test_three_wrong_answers_lock_the_order_for_15_minutes(guard):
    clients = client_keys("attacker-1", "203.0.113.9")
    assert guard.failed(ORDER, clients).remaining == 2
    assert guard.failed(ORDER, clients).remaining == 1
    locked = guard.failed(ORDER, clients)
    assert not locked.allowed and locked.wait_seconds == 900
    assert not guard.check(ORDER, clients).allowed


def test_new_sender_ids_and_addresses_get_no_fresh_tries_on_the_order(guard):
    for n in range(3):
        guard.failed(ORDER, client_keys(f"sender-{n}", f"198.51.100.{n}"))
    verdict = guard.check(ORDER, client_keys("sender-new", "192.0.2.1"))
    assert not verdict.allowed and 0 < verdict.wait_seconds <= 900


def test_each_further_lock_lasts_twice_as_long_up_to_the_cap(guard, clock):
    waits = []
    for _ in range(4):
        for n in range(3):
            verdict = guard.failed(ORDER, [f"sender:{len(waits)}-{n}"])
        waits.append(verdict.wait_seconds)
        clock.now += verdict.wait_seconds  # the lock ends; the attacker tries again
        assert guard.check(ORDER, []).allowed
    assert waits == [900, 1800, 3600, 3600]


def test_a_lock_ends_and_a_quiet_key_starts_over(guard, clock):
    for _ in range(3):
        guard.failed(ORDER, [])
    clock.now += 901
    assert guard.check(ORDER, []).allowed
    clock.now += POLICY.forget_seconds
    assert guard.failed(ORDER, []).remaining == 2
    for _ in range(2):
        verdict = guard.failed(ORDER, [])
    assert verdict.wait_seconds == 900  # forgotten: the back-off starts again at the first lock


def test_one_client_sweeping_many_orders_is_locked_across_orders(guard):
    clients = client_keys("sweeper", "203.0.113.7")
    verdicts = [guard.failed(f"LT20261101{n:02d}", clients) for n in range(5)]
    assert all(v.allowed for v in verdicts[:4]) and not verdicts[4].allowed
    assert not guard.check("LT2026110199", clients).allowed  # another order, same client
    assert guard.check("LT2026110199", client_keys("someone-else", "198.51.100.1")).allowed


def test_the_remaining_tries_are_the_fewest_of_order_and_client(guard):
    clients = ["ip:203.0.113.7"]
    for n in range(3):
        guard.failed(f"LT20261101{n:02d}", clients)
    assert guard.failed("LT2026110150", clients).remaining == 1  # the client has 1 left, the order 2


def test_the_right_digits_forget_the_orders_wrong_answers_but_not_the_clients(guard):
    clients = ["sender:abc"]
    guard.failed(ORDER, clients)
    guard.failed(ORDER, clients)
    guard.succeeded(ORDER)
    assert guard.check(ORDER, []).remaining == 3
    assert guard.check(None, clients).remaining == 3  # client_failures 5, 2 used


def test_staff_see_and_clear_locks(guard, caplog):
    for _ in range(3):
        guard.failed(ORDER, [])
    [lock] = guard.lockouts()
    assert lock.key == f"order:{ORDER}" and lock.locks == 1
    with caplog.at_level(logging.WARNING, "kefu.security.verification"):
        assert guard.clear(f"order:{ORDER}") is True
    assert guard.check(ORDER, []).allowed and guard.lockouts() == []
    assert guard.clear(f"order:{ORDER}") is False
    assert "LT20****04" in caplog.text and ORDER not in caplog.text


def test_a_lock_is_logged_with_the_order_masked(guard, caplog):
    with caplog.at_level(logging.WARNING, "kefu.security.verification"):
        for _ in range(3):
            guard.failed(ORDER, client_keys("s", "203.0.113.9"))
    assert "Phone verification locked" in caplog.text and "LT20****04" in caplog.text
    assert ORDER not in caplog.text and "203.0.113.9" not in caplog.text


def test_client_keys_hash_the_sender_and_skip_an_unknown_address():
    keys = client_keys("customer-42", "203.0.113.9")
    assert keys[0] == "ip:203.0.113.9" and keys[1].startswith("sender:") and "customer-42" not in keys[1]
    assert client_keys("customer-42", "unknown") == keys[1:]
    assert client_keys(None, None) == []


def test_after_failure_is_pure():
    state = Attempts("order:X", failures=2, locks=1, locked_until=0, last_failure=100)
    assert after_failure(state, POLICY, 200) == Attempts("order:X", 0, 2, 200 + 1800, 200)
    assert state.failures == 2


@pytest.mark.parametrize(
    ("seconds", "words"), [(1, "1分钟"), (900, "15分钟"), (3600, "1小时"), (5400, "1小时30分钟")]
)
def test_waits_are_said_in_minutes_and_hours(seconds, words):
    assert describe_wait(seconds) == words
