from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.nlu.text_normalizer import ChineseTextNormalizer


def test_normalises_messages_at_prediction():
    messages = [Message(data={TEXT: "我的訂單ＬＴ２０２６１１０１０３到哪了？"}), Message(data={TEXT: ""})]
    ChineseTextNormalizer().process(messages)
    assert messages[0].get(TEXT) == "我的订单LT2026110103到哪了?"
    assert messages[1].get(TEXT) == ""


def test_normalises_training_examples_keeping_entity_offsets():
    text = "查一下ＬＴ２０２６１１０１０３的物流"
    entity = {"start": 3, "end": 15, "value": "ＬＴ２０２６１１０１０３", "entity": "order_id"}
    data = TrainingData([Message(data={TEXT: text, "intent": "query_logistics", "entities": [entity]})])
    ChineseTextNormalizer().process_training_data(data)
    normalised = data.training_examples[0].get(TEXT)
    assert normalised[entity["start"] : entity["end"]] == "LT2026110103"
