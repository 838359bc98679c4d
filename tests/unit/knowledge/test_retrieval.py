import numpy as np

from kefu.knowledge.embeddings import HashingEmbedder
from kefu.knowledge.retrieval import EmbeddingCache, HybridIndex, Unit, clean_query
from tests.unit.knowledge.fakes import RecordingEmbedder

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
    assert index.search("？？") is None


def test_a_search_keeps_the_best_unit_of_each_key_in_score_order():
    units = [*UNITS, Unit("faq", "shipping_fee", "邮费多少钱"), Unit("faq", "invoice", "发票在哪里申请")]
    found = HybridIndex(units, embedder=HashingEmbedder()).search("邮费多少钱")
    assert found is not None and found.cleaned == "邮费多少钱"
    per_topic = found.best_per_key("faq")
    assert list(per_topic) == ["shipping_fee", "invoice"]
    assert per_topic["shipping_fee"].unit.text == "邮费多少钱"  # the better of the topic's two questions
    assert per_topic["shipping_fee"].score > per_topic["invoice"].score
    assert found.best("doc").unit.key == "d#0"
    assert found.vector is not None and found.vector.shape == (HashingEmbedder().dim,)


def test_an_index_gives_the_vectors_of_one_kind_row_for_row():
    embedder = HashingEmbedder()
    index = HybridIndex(UNITS, embedder=embedder)
    assert index.rows("faq").tolist() == [0, 1] and index.rows("doc").tolist() == [2]
    assert np.allclose(index.vectors("faq"), embedder.embed_queries(["运费怎么算", "怎么开发票"]))
    assert index.rows("nothing").tolist() == []
    assert HybridIndex(UNITS, embedder=None).vectors("faq") is None


def test_embedding_cache_embeds_only_new_texts_and_persists(tmp_path):
    path = tmp_path / "emb.npz"
    embedder = RecordingEmbedder()
    cache = EmbeddingCache(path, embedder)
    first, computed = cache.embed(["甲", "乙"])
    cache.save([("甲", False), ("乙", False)])
    assert computed == 2
    reloaded = EmbeddingCache(path, embedder)
    vectors, computed = reloaded.embed(["甲", "乙", "丙"])
    assert computed == 1 and len(embedder.passages) == 3
    assert np.allclose(vectors[:2], first)
    reloaded.save([("乙", False), ("丙", False)])
    assert EmbeddingCache(path, embedder).embed(["甲"])[1] == 1  # forgotten once removed
    assert EmbeddingCache(path, embedder).embed(["乙"], as_queries=True)[1] == 1  # queries cached apart
