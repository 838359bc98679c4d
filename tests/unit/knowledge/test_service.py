from dataclasses import replace

import pytest

from kefu.knowledge.cache import AnswerCache, InMemoryAnswerStore
from kefu.knowledge.embeddings import HashingEmbedder
from kefu.knowledge.service import KnowledgeProvider, KnowledgeService, rank_topics
from kefu.knowledge.sources import load_sources
from kefu.knowledge.store import update_index


def service(knowledge_dir, threshold=0.25):
    return KnowledgeService(
        load_sources(knowledge_dir), HashingEmbedder(), threshold=threshold, doc_threshold=threshold
    )


def test_answers_from_the_faq_with_its_source(knowledge_dir):
    answer = service(knowledge_dir).answer("邮费要多少钱啊")
    assert answer is not None
    assert (answer.source_type, answer.source_id) == ("faq", "shipping_fee")
    assert "99元" in answer.text and "8元" in answer.text


def test_answers_from_a_document_when_no_faq_matches(knowledge_dir):
    answer = service(knowledge_dir).answer("羽绒服可以机洗吗")
    assert answer is not None
    assert answer.source_type == "document"
    assert answer.source_title == "商品保养指南"
    assert "不要机洗" in answer.text


def test_below_the_threshold_there_is_no_answer(knowledge_dir):
    assert service(knowledge_dir, threshold=0.95).answer("邮费要多少钱啊") is None
    assert service(knowledge_dir).answer("今天天气怎么样呢朋友") is None


class FixedClassifier:
    """A topic classifier that is sure of one topic, whatever the question."""

    def __init__(self, topic, topics=("shipping_fee", "invoice")):
        self.topics = list(topics)
        self._topic = topic

    def probabilities(self, text, vector):
        return [1.0 if t == self._topic else 0.0 for t in self.topics]


def test_the_classifier_can_overrule_the_closest_wording(knowledge_dir):
    knowledge = service(knowledge_dir)
    found = knowledge.index.search("邮费多少钱")
    retrieval = rank_topics(found, None, 0.0)
    assert [hit.unit.key for _, hit in retrieval] == ["shipping_fee", "invoice"]
    ranked = rank_topics(found, FixedClassifier("invoice"), KnowledgeService.CLASSIFIER_WEIGHT)
    assert [hit.unit.key for _, hit in ranked] == ["invoice", "shipping_fee"]
    assert ranked[0][0] == pytest.approx(ranked[0][1].score + KnowledgeService.CLASSIFIER_WEIGHT)


def test_the_threshold_applies_to_the_chosen_topics_retrieval_score(knowledge_dir):
    knowledge = service(knowledge_dir)
    knowledge.classifier = FixedClassifier("invoice")
    scores = {t: hit.score for t, hit in knowledge.index.search("邮费多少钱").best_per_key("faq").items()}
    entry, score = knowledge.best_faq("邮费多少钱")
    assert (entry.topic, score) == ("invoice", scores["invoice"])
    knowledge.threshold, knowledge.doc_threshold = scores["invoice"] + 0.01, 1.0
    assert scores["shipping_fee"] > knowledge.threshold  # retrieval alone would have answered
    assert knowledge.answer("邮费多少钱") is None


def test_the_service_trains_its_classifier_on_the_faq_and_answers_with_it(knowledge_dir):
    knowledge = service(knowledge_dir)
    assert sorted(knowledge.classifier.topics) == ["invoice", "shipping_fee"]
    assert knowledge.answer("发票能开吗").source_id == "invoice"


def test_one_faq_topic_needs_no_classifier(knowledge_dir):
    faq = knowledge_dir / "faq.yml"
    text = faq.read_text(encoding="utf-8")
    faq.write_text(text[: text.index("  - id: invoice")], encoding="utf-8")
    knowledge = service(knowledge_dir)
    assert knowledge.classifier is None
    assert knowledge.answer("邮费要多少钱啊").source_id == "shipping_fee"


@pytest.fixture
def provider(knowledge_dir, tmp_path, monkeypatch):
    monkeypatch.setattr("kefu.knowledge.service.get_embedder", lambda name: HashingEmbedder())
    return KnowledgeProvider(knowledge_dir, tmp_path / "index", "hashing", 0.25)


def test_provider_builds_a_missing_index_then_loads_it_once(provider, knowledge_dir, tmp_path):
    service = provider.get()
    assert (tmp_path / "index" / "manifest.json").is_file()
    assert provider.get() is service
    assert service.answer("运费怎么算").source_id == "shipping_fee"


def test_provider_picks_up_an_update_without_restart(provider, knowledge_dir, tmp_path):
    before = provider.get()
    faq = knowledge_dir / "faq.yml"
    faq.write_text(
        faq.read_text(encoding="utf-8").replace("不满99元收取运费8元", "不满99元收取运费10元"), "utf-8"
    )
    assert provider.get() is before  # an edited file alone changes nothing: the update publishes it
    update_index(knowledge_dir, tmp_path / "index", HashingEmbedder())
    after = provider.get()
    assert after is not before and after.version != before.version
    assert "10元" in after.answer("运费怎么算").text


def cached_service(knowledge_dir, cache, version):
    return KnowledgeService(
        load_sources(knowledge_dir), HashingEmbedder(), threshold=0.25, version=version, answer_cache=cache
    )


def test_answers_come_from_the_cache_the_second_time(knowledge_dir):
    cache = AnswerCache(InMemoryAnswerStore())
    knowledge = cached_service(knowledge_dir, cache, "v1")
    first = knowledge.answer("邮费要多少钱啊")
    unsure = knowledge.answer("今天天气怎么样呢朋友")
    assert first is not None and unsure is None
    assert cache.lookups == 0  # never seen before: the Bloom filter skipped the store
    knowledge.index = None  # from now on, any retrieval would fail
    assert knowledge.answer("郵費要多少錢啊") == first  # the same question once normalised
    assert knowledge.answer("今天天气怎么样呢朋友") is None
    assert cache.lookups == 2


def test_a_new_knowledge_version_does_not_see_older_answers(knowledge_dir):
    cache = AnswerCache(InMemoryAnswerStore())
    cached_service(knowledge_dir, cache, "v1").answer("邮费要多少钱啊")
    newer = cached_service(knowledge_dir, cache, "v2")
    newer._faq["shipping_fee"] = replace(newer._faq["shipping_fee"], answer="全场包邮。")
    assert newer.answer("邮费要多少钱啊").text == "全场包邮。"


def test_a_passage_adds_detail_when_it_has_a_question_word_the_faq_never_mentions(knowledge_dir):
    knowledge = service(knowledge_dir)
    entry = knowledge._faq["shipping_fee"]
    passage = "保温杯首次使用前用开水烫洗。"
    assert knowledge.adds_detail("保温杯的运费怎么算", entry, passage)
    assert not knowledge.adds_detail("运费怎么算", entry, "运费按重量计算。")  # the FAQ says 运费 already
    assert not knowledge.adds_detail("羽绒服运费怎么算", entry, passage)  # 羽绒服 is not in the passage


def test_a_faq_answer_takes_a_passage_near_its_score_or_with_new_detail(knowledge_dir):
    from kefu.knowledge.retrieval import Hit, Unit
    from kefu.knowledge.service import KnowledgeAnswer

    knowledge = service(knowledge_dir)
    entry = knowledge._faq["shipping_fee"]
    faq = Hit(Unit("faq", "shipping_fee", "运费怎么算"), 0.8, 0.8, 0.8)

    def passage(score, text="保温杯首次使用前用开水烫洗。"):
        return KnowledgeAnswer(text, score, "document", "product_care.md#1", "商品保养指南")

    low = KnowledgeService.SUPPLEMENT_MIN
    near = faq.score - KnowledgeService.SUPPLEMENT_MARGIN
    assert knowledge._supplements("运费怎么算", entry, faq, passage(near, "无关内容"), None)
    assert not knowledge._supplements("运费怎么算", entry, faq, passage(low, "无关内容"), None)
    assert knowledge._supplements("保温杯运费怎么算", entry, faq, passage(low), None)
    assert not knowledge._supplements("保温杯运费怎么算", entry, faq, passage(low - 0.01), None)
    assert not knowledge._supplements("保温杯运费怎么算", entry, faq, passage(low), min_score=low + 0.1)
