"""The answer cache against the real Redis: own key prefix, every key deleted afterwards."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
import redis

from kefu.knowledge.cache import AnswerCache, RedisAnswerStore
from kefu.knowledge.embeddings import HashingEmbedder
from kefu.knowledge.service import KnowledgeService
from kefu.knowledge.sources import load_sources

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url(require_service) -> str:
    url = redis.connection.parse_url(REDIS_URL)
    require_service(
        "Redis", url.get("host", "127.0.0.1"), url.get("port", 6379), "redis-server --daemonize yes"
    )
    return REDIS_URL


@pytest.fixture
def prefix(redis_url):
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"kefu-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def client(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def sources():
    return load_sources(ROOT / "knowledge")


def service(sources, cache, version="v1"):
    return KnowledgeService(sources, HashingEmbedder(), threshold=0.2, version=version, answer_cache=cache)


def test_store_round_trip_with_ttl(redis_url, prefix, client):
    store = RedisAnswerStore(redis_url)
    store.set(prefix + "k", "运费8元", ttl=120)
    assert store.get(prefix + "k") == "运费8元"
    assert 0 < client.ttl(prefix + "k") <= 120
    assert store.get(prefix + "missing") is None


def test_answers_are_cached_in_redis_and_served_from_it(redis_url, prefix, client, sources):
    cache = AnswerCache(RedisAnswerStore(redis_url), ttl=3600, prefix=prefix)
    knowledge = service(sources, cache)
    answer = knowledge.answer("运费怎么算")
    key = knowledge.cache_key("运费怎么算", None)
    stored = json.loads(client.get(key))
    assert stored["source_id"] == answer.source_id and stored["text"] == answer.text
    assert 3590 < client.ttl(key) <= 3600
    client.set(key, json.dumps({**stored, "text": "from redis"}), ex=60)
    assert knowledge.answer("運費怎麼算").text == "from redis"  # the same normalised question


def test_a_new_knowledge_version_misses_older_answers(redis_url, prefix, client, sources):
    cache = AnswerCache(RedisAnswerStore(redis_url), prefix=prefix)
    old, new = service(sources, cache, "v1"), service(sources, cache, "v2")
    old.answer("运费怎么算")
    client.set(old.cache_key("运费怎么算", None), json.dumps(None))  # poison the old version
    assert new.answer("运费怎么算") is not None
    assert client.exists(new.cache_key("运费怎么算", None))


def test_new_answering_rules_miss_answers_cached_under_the_old_ones(
    redis_url, prefix, client, sources, monkeypatch
):
    cache = AnswerCache(RedisAnswerStore(redis_url), prefix=prefix)
    knowledge = service(sources, cache)
    knowledge.answer("运费怎么算")
    client.set(knowledge.cache_key("运费怎么算", None), json.dumps(None))  # poison the old rules
    monkeypatch.setattr(KnowledgeService, "ANSWER_RULES", KnowledgeService.ANSWER_RULES + "-next")
    assert knowledge.answer("运费怎么算").source_id == "shipping_fee"


def test_redis_going_away_slows_answers_but_never_fails_them(redis_url, prefix, client, sources):
    store = RedisAnswerStore(redis_url, retry_after=0.0)
    cache = AnswerCache(store, prefix=prefix)
    knowledge = service(sources, cache)
    knowledge.answer("运费怎么算")
    # Kill our connections and point the client at a port nobody listens on: Redis is "down".
    store._client.connection_pool.disconnect()
    store._client.connection_pool.connection_kwargs["port"] = 1
    assert knowledge.answer("运费怎么算").source_id == "shipping_fee"
    assert not client.exists(knowledge.cache_key("发票怎么开", None))
    assert knowledge.answer("发票怎么开") is not None
    store._client.connection_pool.connection_kwargs["port"] = client.connection_pool.connection_kwargs["port"]
    knowledge.answer("发票怎么开")  # back: written again
    assert client.exists(knowledge.cache_key("发票怎么开", None))


def test_the_cache_from_the_settings_keeps_to_redis_key_prefix(redis_url, client, monkeypatch):
    # Issue 13 (low): the answer cache wrote kefu:kb:answer:* whatever REDIS_KEY_PREFIX said, so two
    # shops sharing one Redis read each other's answers.
    from kefu.knowledge.service import answer_cache_from_settings
    from kefu.settings import get_settings

    shop = f"kefutest{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_KEY_PREFIX", shop)
    get_settings.cache_clear()
    try:
        cache = answer_cache_from_settings()
        key = cache.key("v1", "运费怎么算", None)
        cache.put(key, json.dumps({"answer": "满99元包邮"}))
        stored = [k.decode() for k in client.scan_iter(match=f"{shop}:*")]
        assert stored == [key] and key.startswith(f"{shop}:kb:answer:")
        assert json.loads(cache.get(key)) == {"answer": "满99元包邮"}
    finally:
        get_settings.cache_clear()
        for leftover in client.scan_iter(match=f"{shop}:*"):
            client.delete(leftover)
