import logging
import uuid

import pytest

from kefu.knowledge.cache import (
    AnswerCache,
    BloomFilter,
    InMemoryAnswerStore,
    RedisAnswerStore,
    cache_question,
)


def test_bloom_filter_has_no_false_negatives():
    bloom = BloomFilter(capacity=1000, error_rate=0.01)
    items = [f"question-{i}" for i in range(1000)]
    for item in items:
        bloom.add(item)
    assert all(item in bloom for item in items)


@pytest.mark.parametrize("error_rate", [0.01, 0.05])
def test_bloom_filter_false_positive_rate_stays_near_its_target_when_full(error_rate):
    bloom = BloomFilter(capacity=10_000, error_rate=error_rate)
    for i in range(10_000):
        bloom.add(f"seen-{i}")
    trials = 50_000
    false_positives = sum(f"never-{i}" in bloom for i in range(trials))
    assert false_positives / trials < 1.5 * error_rate


def test_bloom_filter_clears():
    bloom = BloomFilter(capacity=10)
    bloom.add("x")
    bloom.clear()
    assert "x" not in bloom and bloom.count == 0


def test_cache_question_normalises_width_script_case_and_spaces():
    assert cache_question("  運費  怎麼算ＯＫ ") == cache_question("运费 怎么算ok")


def test_in_memory_store_expires_entries():
    now = [0.0]
    store = InMemoryAnswerStore(clock=lambda: now[0])
    store.set("k", "v", ttl=10)
    assert store.get("k") == "v"
    now[0] = 10.0
    assert store.get("k") is None


def test_answer_cache_skips_the_store_for_never_seen_keys():
    cache = AnswerCache(InMemoryAnswerStore(), ttl=60)
    key = cache.key("v1", "运费怎么算", None)
    assert cache.get(key) is None and cache.lookups == 0
    cache.put(key, "answer")
    assert cache.get(key) == "answer" and cache.lookups == 1


def test_answer_cache_keys_hold_version_threshold_and_normalised_question():
    cache = AnswerCache(InMemoryAnswerStore())
    assert cache.key("v1", "運費怎麼算", None) == cache.key("v1", "运费怎么算", None)
    assert cache.key("v1", "运费怎么算", None) != cache.key("v2", "运费怎么算", None)
    assert cache.key("v1", "运费怎么算", None) != cache.key("v1", "运费怎么算", 0.45)


def test_a_full_bloom_filter_starts_afresh():
    cache = AnswerCache(InMemoryAnswerStore(), bloom=BloomFilter(capacity=2))
    for question in ("a", "b", "c"):
        cache.put(cache.key("v", question, None), question)
    assert cache.bloom.count == 1


def test_an_unreachable_redis_is_a_miss_logged_once(caplog):
    store = RedisAnswerStore(
        "redis://127.0.0.1:1/0", retry_after=60, timeout=0.2
    )  # nothing listens on port 1
    with caplog.at_level(logging.WARNING, logger="kefu.knowledge.cache"):
        store.set(uuid.uuid4().hex, "v", ttl=5)
        assert store.get("k") is None
        assert store.get("k") is None
    assert len([r for r in caplog.records if "unreachable" in r.message]) == 1
    assert not store.available  # waits retry_after before trying again


def test_a_malformed_redis_url_fails_at_start():
    with pytest.raises(ValueError):
        RedisAnswerStore("http://127.0.0.1:6379")
