"""The Redis conversation stores against the machine's Redis, under a key prefix unique to each test."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from kefu.runtime.conversation_stores import RedisConversationStore, RedisTicketLockStore
from kefu.runtime.redis import RedisUnavailable, check_redis
from kefu.settings import Settings

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
HOW_TO_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no '
    "--logfile /var/log/redis/ci.log"
)


@pytest.fixture
def settings(require_service) -> Iterator[Settings]:
    """Settings pointing at the machine's Redis with a fresh key prefix; the prefix's keys are removed."""
    parts = urlsplit(REDIS_URL)
    require_service("Redis", parts.hostname or "127.0.0.1", parts.port or 6379, HOW_TO_START)
    prefix = f"test{uuid.uuid4().hex[:12]}"
    yield Settings(redis_url=REDIS_URL, redis_key_prefix=prefix, redis_tracker_expiry_days=1)
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_an_unreachable_redis_is_an_error_naming_redis_url(settings):
    dead = dataclasses.replace(settings, redis_url="redis://:secret@127.0.0.1:1/0")
    with pytest.raises(
        RedisUnavailable, match=re.escape("REDIS_URL=redis://:***@127.0.0.1:1/0 is unreachable")
    ) as error:
        RedisConversationStore(Domain.empty(), settings=dead)
    assert "secret" not in str(error.value)
    with pytest.raises(RedisUnavailable, match="REDIS_URL"):
        RedisTicketLockStore(settings=dead)


def test_a_wrong_password_is_an_error_naming_redis_url(settings):
    with pytest.raises(RedisUnavailable, match=r"rejected by Redis.*password"):
        check_redis(REDIS_URL.replace("redis://", "redis://:not-the-password@"))


async def test_trackers_are_stored_under_the_prefix_and_expire(settings):
    store = RedisConversationStore(Domain.empty(), settings=settings)
    tracker = DialogueStateTracker.from_events(
        "customer-1", [ActionExecuted("action_session_start"), SessionStarted(), UserUttered("你好")]
    )
    await store.save(tracker)
    key = f"{settings.redis_key_prefix}:tracker:customer-1"
    assert 0 < store.red.ttl(key) <= 24 * 3600
    stored = await store.retrieve("customer-1")
    assert [e.text for e in stored.events if isinstance(e, UserUttered)] == ["你好"]


async def test_a_long_conversation_is_served_from_its_window_and_stored_whole(settings):
    settings = dataclasses.replace(settings, tracker_window_events=20)
    store = RedisConversationStore(Domain.empty(), settings=settings)
    sender = f"long-{uuid.uuid4().hex}"
    events = [ActionExecuted("action_session_start", timestamp=1), SessionStarted(timestamp=1)]
    for i in range(30):
        events += [
            UserUttered(f"问题{i}", {"name": "faq", "confidence": 0.9}, timestamp=10 + i),
            ActionExecuted("action_listen", timestamp=10.5 + i),
        ]
    await store.save(DialogueStateTracker.from_events(sender, events, []))  # Rasa's layout
    for i in range(3):
        tracker = await store.get_or_create_tracker(sender)
        assert len(tracker.events) <= 20 + 4 and tracker.latest_message.text == f"问题{29 + i}"
        tracker.update(UserUttered(f"问题{30 + i}", {"name": "faq", "confidence": 0.9}, timestamp=50 + i))
        await store.save(tracker)  # the first save rewrites the record, the next ones append in place
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    assert client.get(f"{settings.redis_key_prefix}:tracker:{sender}").endswith("]}")
    assert 0 < client.ttl(f"{settings.redis_key_prefix}:window:{sender}") <= 24 * 3600
    whole = await store.retrieve_full_tracker(sender)
    texts = [e.text for e in whole.events if isinstance(e, UserUttered)]
    assert texts == [f"问题{i}" for i in range(33)]


def test_the_session_expiry_comes_from_the_settings_and_slots_follow_the_domain(settings):
    store = RedisConversationStore(settings=dataclasses.replace(settings, session_expiration_minutes=5))
    for carry_over in (False, True):
        domain = Domain.from_dict(
            {"session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": carry_over}}
        )
        store.domain = domain  # what Rasa's agent does once the model is loaded
        assert domain.session_config.session_expiration_time == 5
        assert domain.session_config.carry_over_slots is carry_over


def test_two_lock_stores_let_one_holder_at_a_time(settings):
    """Two server instances (two stores, two connections) and many messages of one conversation at once:
    at no moment do two of them hold the conversation's lock."""
    stores = [RedisTicketLockStore(settings=settings) for _ in range(2)]
    holders, most_holders, served = 0, 0, []
    guard = threading.Lock()

    async def message(store: RedisTicketLockStore, number: int) -> None:
        nonlocal holders, most_holders
        async with store.lock("customer-1", wait_time_in_seconds=0.01):
            with guard:
                holders += 1
                most_holders = max(most_holders, holders)
            await asyncio.sleep(0.005)
            with guard:
                holders -= 1
                served.append(number)

    def instance(store: RedisTicketLockStore, first: int) -> None:
        async def burst() -> None:
            await asyncio.gather(*(message(store, first + n) for n in range(15)))

        asyncio.run(burst())

    threads = [threading.Thread(target=instance, args=(store, 100 * i)) for i, store in enumerate(stores)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert time.monotonic() - start < 120, "the messages did not all get the lock"
    assert most_holders == 1
    assert sorted(served) == sorted([*range(15), *range(100, 115)])
    assert stores[0].get_lock("customer-1") is None  # the last holder removed the lock
