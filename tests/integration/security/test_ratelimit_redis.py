"""The Redis rate limiter against the real Redis on this machine, under a throw-away key prefix."""

import uuid

import pytest
import redis

from kefu.security.ratelimit import RedisRateLimiter

pytestmark = pytest.mark.integration
URL = "redis://127.0.0.1:6379/0"


async def test_counters_are_shared_by_limiters_and_expire(require_service):
    require_service("Redis", "127.0.0.1", 6379, "sudo service redis-server start")
    prefix = f"kefutest{uuid.uuid4().hex[:8]}"
    first, second = RedisRateLimiter(URL, prefix), RedisRateLimiter(URL, prefix)
    try:
        assert (await first.hit("sender", 2)).allowed
        assert (await second.hit("sender", 2)).allowed  # another server, same counter
        refused = await first.hit("sender", 2)
        assert not refused.allowed and 1 <= refused.retry_after <= 60
        client = redis.Redis.from_url(URL)
        keys = client.keys(f"{prefix}:ratelimit:*")
        assert keys and all(b"sender" not in key for key in keys)  # hashed, never in the clear
        assert all(0 < client.ttl(key) <= 61 for key in keys)
        client.delete(*keys)
    finally:
        await first.close()
        await second.close()


async def test_an_unreachable_redis_lets_requests_through():
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0")
    assert (await limiter.hit("sender", 1)).allowed
    await limiter.close()
