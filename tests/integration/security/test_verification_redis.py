"""The verification lock-out's Redis store against the real Redis, under a throw-away key prefix."""

import uuid

import pytest
import redis

from kefu.security.verification import RedisAttemptStore, VerificationUnavailable
from tests.integration.verification_contract import (
    POLICY,
    check_concurrent_failures_all_count,
    check_lockout_survives_new_stores,
    check_success_forgets_the_orders_failures,
)

pytestmark = pytest.mark.integration
URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix(require_service):
    require_service("Redis", "127.0.0.1", 6379, "sudo service redis-server start")
    prefix = f"kefutest{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis.from_url(URL)
    keys = client.keys(f"{prefix}:*")
    if keys:
        client.delete(*keys)


def test_counts_are_shared_and_survive_a_restart(prefix):
    check_lockout_survives_new_stores(lambda: RedisAttemptStore(URL, prefix, POLICY))


def test_the_right_digits_forget_the_orders_failures(prefix):
    check_success_forgets_the_orders_failures(lambda: RedisAttemptStore(URL, prefix, POLICY))


def test_concurrent_failures_all_count(prefix):
    check_concurrent_failures_all_count(lambda: RedisAttemptStore(URL, prefix, POLICY))


def test_keys_carry_the_prefix_and_expire(prefix):
    RedisAttemptStore(URL, prefix, POLICY).record_failure("order:LT2026110104", POLICY, 1_800_000_000)
    client = redis.Redis.from_url(URL)
    [key] = client.keys(f"{prefix}:*")
    assert key == f"{prefix}:verification:order:LT2026110104".encode()
    assert 0 < client.ttl(key) <= POLICY.forget_seconds + POLICY.max_lock_seconds


def test_an_unreachable_redis_is_an_error_not_a_fresh_try():
    store = RedisAttemptStore("redis://127.0.0.1:1/0", "kefutest", POLICY)
    with pytest.raises(VerificationUnavailable):
        store.get("order:LT2026110104")
