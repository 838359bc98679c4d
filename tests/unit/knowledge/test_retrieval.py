import numpy as np

from kefu.knowledge.embeddings import HashingEmbedder
from kefu.knowledge.retrieval import EmbeddingCache, HybridIndex, Unit, clean_query

UNITS = [
    Unit("faq", "shipping_fee", "运费怎么算"),
    Unit("faq", "invoice", "怎么开发票"),
    Unit("doc", "d#0", "羽绒服不要机洗"),
]


def test_clean_query_drops_order_numbers_punctuation_and_case():
    assert clean_query("ＬＴ２０２６１１０１０３ 這單運費怎麼算？OK") == "这单运费怎么算ok"


def test_lexical_only_ranks_the_matching_unit_first():
    hits = HybridIndex(UNITS, embedder=None).score("请问运费是怎么算的")
    assert hits[0].unit.key == "shipping_fee"
    assert hits[0].dense == 0.0
    assert 0.0 < hits[0].score <= 1.0
    assert hits[0].score > hits[1].score


def test_fused_score_combines_both_signals():
    index = HybridIndex(UNITS, embedder=HashingEmbedder(), dense_weight=0.5)
    hit = index.score("开发票")[0]
    assert hit.unit.key == "invoice"
    assert abs(hit.score - (0.5 * hit.dense + 0.5 * hit.lexical)) < 1e-6


def test_empty_or_punctuation_only_query_has_no_hits():
    index = HybridIndex(UNITS, embedder=None)
    assert index.score("") == []
    assert index.score("？？！！") == []


class CountingEmbedder(HashingEmbedder):
    def __init__(self):
        super().__init__(dim=64)
        self.calls = 0

    def embed_passages(self, texts):
        self.calls += len(texts)
        return super().embed_passages(texts)


def test_embedding_cache_embeds_only_new_texts_and_persists(tmp_path):
    path = tmp_path / "emb.npz"
    embedder = CountingEmbedder()
    cache = EmbeddingCache(path, embedder)
    first, computed = cache.embed(["甲", "乙"])
    cache.save([("甲", False), ("乙", False)])
    assert computed == 2
    reloaded = EmbeddingCache(path, embedder)
    vectors, computed = reloaded.embed(["甲", "乙", "丙"])
    assert computed == 1 and embedder.calls == 3
    assert np.allclose(vectors[:2], first)
    reloaded.save([("乙", False), ("丙", False)])
    assert EmbeddingCache(path, embedder).embed(["甲"])[1] == 1  # forgotten once removed
    assert EmbeddingCache(path, embedder).embed(["乙"], as_queries=True)[1] == 1  # queries cached apart
