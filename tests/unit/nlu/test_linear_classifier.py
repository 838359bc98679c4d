import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.knowledge.embeddings import HashingEmbedder
from kefu.nlu.dense_featurizer import SentenceEmbeddingFeaturizer
from kefu.nlu.linear_classifier import LinearIntentClassifier

EXAMPLES = {
    "greet": ["你好", "您好", "在吗", "哈喽", "你好呀"],
    "query_logistics": ["我的快递到哪了", "物流到哪里了", "快递怎么还没到", "查一下物流", "包裹到哪了"],
    "apply_refund": ["我要退款", "申请退款", "帮我退款", "这个我想退款", "能退款吗"],
}


class Pipeline:
    """The featurizers of config.yml in small: character n-grams and a (hashing) sentence vector."""

    def __init__(self, storage: LocalModelStorage, context: ExecutionContext) -> None:
        self.tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
        config = {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 1}
        config["max_ngram"] = 2
        self.counts = CountVectorsFeaturizer(config, storage, Resource("counts"), context)
        dense_config = {**SentenceEmbeddingFeaturizer.get_default_config(), "embedder": "hashing"}
        self.dense = SentenceEmbeddingFeaturizer(dense_config, "dense", embedder=HashingEmbedder(dim=16))

    def train(self, data: TrainingData) -> None:
        self.tokenizer.process_training_data(data)
        self.counts.train(data)
        self.counts.process_training_data(data)
        self.dense.process_training_data(data)

    def messages(self, *texts: str) -> list[Message]:
        messages = [Message(data={TEXT: text}) for text in texts]
        self.tokenizer.process(messages)
        self.counts.process(messages)
        self.dense.process(messages)
        return messages


@pytest.fixture
def storage(tmp_path):
    return LocalModelStorage(tmp_path)


@pytest.fixture
def context():
    return ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture
def trained(storage, context):
    pipeline = Pipeline(storage, context)
    data = TrainingData(
        [Message(data={TEXT: text, INTENT: intent}) for intent, texts in EXAMPLES.items() for text in texts]
    )
    pipeline.train(data)
    resource = Resource("linear")
    classifier = LinearIntentClassifier.create({}, storage, resource, context)
    classifier.train(data)
    return pipeline, classifier, resource


def test_predicts_the_intent_of_unseen_wordings(trained):
    pipeline, classifier, _ = trained
    messages = pipeline.messages("您好呀", "快递到哪里了", "我想申请退款")
    classifier.process(messages)
    assert [m.get(INTENT)["name"] for m in messages] == ["greet", "query_logistics", "apply_refund"]


def test_ranking_is_sorted_has_every_class_and_sums_to_one(trained):
    pipeline, classifier, _ = trained
    (message,) = classifier.process(pipeline.messages("物流到哪了"))
    ranking = message.get(INTENT_RANKING_KEY)
    assert sorted(r["name"] for r in ranking) == sorted(EXAMPLES)
    confidences = [r["confidence"] for r in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)
    assert message.get(INTENT) == ranking[0]
    output = message.as_dict(only_output_properties=True)
    assert output[INTENT]["name"] == "query_logistics"


def test_ranking_length_cuts_the_ranking(storage, context, trained):
    pipeline, _, resource = trained
    short = LinearIntentClassifier.load({"ranking_length": 2}, storage, resource, context)
    (message,) = short.process(pipeline.messages("你好"))
    assert len(message.get(INTENT_RANKING_KEY)) == 2
    assert message.get(INTENT)["name"] == "greet"


def test_persisted_weights_load_back_to_the_same_probabilities(storage, context, trained):
    pipeline, classifier, resource = trained
    loaded = LinearIntentClassifier.load({}, storage, resource, context)
    assert set(loaded.weights) == {"coef", "intercept", "classes", "idf"}
    texts = ("在吗", "包裹怎么还没到", "帮我退款吧")
    assert np.allclose(
        loaded.predict_proba(pipeline.messages(*texts)), classifier.predict_proba(pipeline.messages(*texts))
    )
    with (
        storage.read_from(resource) as folder,
        np.load(folder / "linear_intent_classifier.npz", allow_pickle=False) as data,
    ):
        assert list(data["classes"]) == sorted(EXAMPLES)


def test_an_untrained_model_loads_and_predicts_nothing(storage, context, trained):
    pipeline, _, _ = trained
    empty = LinearIntentClassifier.load({}, storage, Resource("never-trained"), context)
    assert empty.weights is None
    (message,) = empty.process(pipeline.messages("你好"))
    assert message.get(INTENT) is None


def test_training_without_intent_examples_writes_nothing(storage, context):
    resource = Resource("nothing")
    classifier = LinearIntentClassifier.create({}, storage, resource, context)
    assert classifier.train(TrainingData([Message(data={TEXT: "你好"})])) == resource
    assert classifier.weights is None


def test_two_classes_give_two_probabilities(storage, context):
    pipeline = Pipeline(storage, context)
    data = TrainingData(
        [Message(data={TEXT: t, INTENT: i}) for i in ("greet", "apply_refund") for t in EXAMPLES[i]]
    )
    pipeline.train(data)
    classifier = LinearIntentClassifier.create({}, storage, Resource("binary"), context)
    classifier.train(data)
    probabilities = classifier.predict_proba(pipeline.messages("你好", "我要退款"))
    assert probabilities.shape == (2, 2)
    assert list(classifier.weights["classes"]) == ["apply_refund", "greet"]
    assert probabilities.argmax(axis=1).tolist() == [1, 0]
