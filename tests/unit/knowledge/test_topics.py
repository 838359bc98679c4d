import numpy as np
import pytest

from kefu.knowledge.embeddings import HashingEmbedder
from kefu.knowledge.topics import TopicClassifier

WORDINGS = {
    "shipping_fee": ["运费怎么算", "邮费多少钱", "多少钱包邮", "快递费怎么收", "要付运费吗"],
    "invoice": ["怎么开发票", "能开发票吗", "发票在哪里申请", "可以开专票吗", "电子发票怎么下载"],
    "password": ["密码忘了怎么办", "怎么改登录密码", "账号被锁了", "重置密码", "登录不上去"],
}
TEXTS = [text for wordings in WORDINGS.values() for text in wordings]
TOPICS = [topic for topic, wordings in WORDINGS.items() for _ in wordings]


@pytest.mark.parametrize("embedder", [HashingEmbedder(), None], ids=["with vectors", "characters only"])
def test_it_learns_a_topic_from_its_wordings(embedder):
    vectors = embedder.embed_queries(TEXTS) if embedder else None
    classifier = TopicClassifier(TEXTS, TOPICS, vectors)
    assert sorted(classifier.topics) == sorted(WORDINGS)
    for question, topic in (
        ("快递费要付多少", "shipping_fee"),
        ("发票怎么申请", "invoice"),
        ("密码改不了", "password"),
    ):
        vector = embedder.embed_queries([question])[0] if embedder else None
        probabilities = classifier.probabilities(question, vector)
        assert probabilities.shape == (3,) and abs(probabilities.sum() - 1) < 1e-6
        assert classifier.topics[int(np.argmax(probabilities))] == topic


def test_a_classifier_needs_two_topics_and_the_vectors_it_was_trained_with():
    with pytest.raises(ValueError, match="two topics"):
        TopicClassifier(["运费怎么算", "邮费多少钱"], ["shipping_fee", "shipping_fee"], None)
    vectors = HashingEmbedder().embed_queries(TEXTS)
    with pytest.raises(ValueError, match="sentence vectors"):
        TopicClassifier(TEXTS, TOPICS, vectors).probabilities("运费", None)
