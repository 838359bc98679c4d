"""The WeChat channels' shared state in the real Redis: own key prefix, every key deleted afterwards."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
import redis

from kefu.wechat.state import RedisSeenMessages, RedisTokenCache, shared_state

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def prefix(require_service):
    url = redis.connection.parse_url(REDIS_URL)
    require_service(
        "Redis", url.get("host", "127.0.0.1"), url.get("port", 6379), "redis-server --daemonize yes"
    )
    prefix = f"kefutest{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + ":*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_a_token_is_shared_by_every_process_and_expires(prefix):
    async def run():
        first, second = RedisTokenCache(REDIS_URL, prefix), RedisTokenCache(REDIS_URL, prefix)
        await first.set("mp:wx1", "token-1", ttl_seconds=60)
        seen = await second.get("mp:wx1")
        await second.drop("mp:wx1", "an-older-token")  # another process's stale token: kept
        kept = await first.get("mp:wx1")
        await second.drop("mp:wx1", "token-1")
        return seen, kept, await first.get("mp:wx1")

    assert asyncio.run(run()) == ("token-1", "token-1", None)
    ttl = redis.Redis.from_url(REDIS_URL).ttl(f"{prefix}:wechat:token:mp:wx1")
    assert ttl == -2  # dropped


def test_a_message_is_taken_by_one_process_only(prefix):
    async def run():
        processes = [RedisSeenMessages(REDIS_URL, prefix) for _ in range(5)]
        return await asyncio.gather(*(p.first("msg-1") for p in processes))

    assert sorted(asyncio.run(run())) == [False, False, False, False, True]


def test_redis_is_used_when_configured(prefix):
    tokens, seen = shared_state(REDIS_URL, prefix)
    assert isinstance(tokens, RedisTokenCache) and isinstance(seen, RedisSeenMessages)
