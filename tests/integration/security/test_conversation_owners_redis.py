"""Conversation owners in the real Redis on this machine, under a throw-away key prefix."""

import uuid

import pytest

from kefu.runtime.redis import redis_client
from kefu.security.conversation_access import ConversationOwner, RedisOwnerRegistry, admit

pytestmark = pytest.mark.integration
URL = "redis://127.0.0.1:6379/0"


async def nothing_exists(_):
    return False


async def test_owners_are_shared_by_server_processes_and_expire(require_service):
    require_service("Redis", "127.0.0.1", 6379, "sudo service redis-server start")
    prefix = f"kefutest{uuid.uuid4().hex[:8]}"
    client = redis_client(URL, decode_responses=True)
    first, second = RedisOwnerRegistry(client, prefix, 120), RedisOwnerRegistry(client, prefix, 120)
    try:
        opened = await admit(first, "u1", "rest", None, None, nothing_exists)
        assert opened.allowed and opened.issued_key
        # Another server process: the same owner, the same key, and no second opening.
        assert (await admit(second, "u1", "rest", opened.issued_key, None, nothing_exists)).allowed
        assert (await admit(second, "u1", "rest", None, None, nothing_exists)).status == 401
        assert not await second.add("u1", ConversationOwner("sdk", app="other"))
        (key,) = client.keys(f"{prefix}:owner:*")
        assert key == f"{prefix}:owner:u1" and 0 < client.ttl(key) <= 120
        assert opened.issued_key not in client.get(key)
    finally:
        keys = client.keys(f"{prefix}:*")
        if keys:
            client.delete(*keys)
