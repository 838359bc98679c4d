import numpy as np
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.knowledge.embeddings import HashingEmbedder
from kefu.nlu.dense_featurizer import SentenceEmbeddingFeaturizer


def featurizer(batch_size=2):
    config = {
        **SentenceEmbeddingFeaturizer.get_default_config(),
        "embedder": "hashing",
        "batch_size": batch_size,
    }
    return SentenceEmbeddingFeaturizer(config, "dense", embedder=HashingEmbedder(dim=32))


def test_adds_one_sentence_vector_per_message_in_batches():
    messages = [Message(data={TEXT: t}) for t in ["运费怎么算", "怎么开发票", "退货", ""]]
    featurizer(batch_size=3).process(messages)
    for message in messages:
        sequence, sentence = message.get_dense_features(TEXT)
        assert sequence is None
        assert sentence.features.shape == (1, 32)
        assert sentence.type == FEATURE_TYPE_SENTENCE
    first = messages[0].get_dense_features(TEXT)[1].features
    assert np.isclose(np.linalg.norm(first), 1.0)


def test_training_data_gets_the_same_features_as_prediction():
    train = TrainingData([Message(data={TEXT: "运费怎么算", "intent": "faq"})])
    featurizer().process_training_data(train)
    predict = [Message(data={TEXT: "运费怎么算"})]
    featurizer().process(predict)
    assert np.allclose(
        train.training_examples[0].get_dense_features(TEXT)[1].features,
        predict[0].get_dense_features(TEXT)[1].features,
    )


def test_messages_without_text_are_left_alone():
    message = Message(data={"intent": "greet"})
    featurizer().process([message])
    assert message.get_dense_features(TEXT) == (None, None)
