"""The assistant's small talk, over REST, against the real server."""

import uuid

import pytest

pytestmark = pytest.mark.e2e


def test_greets_and_says_what_it_can_do(assistant):
    reply = assistant.texts("你好")
    assert "您好" in reply and "订单" in reply


def test_admits_being_a_bot_and_offers_a_human(assistant):
    reply = assistant.texts("你是机器人还是真人啊")
    assert "机器人" in reply and "转人工" in reply


@pytest.mark.parametrize("text", ["今天北京天气怎么样", "给我讲个笑话吧", "帮我写一段Python代码"])
def test_out_of_scope_is_a_polite_refusal_never_a_random_faq(assistant, text):
    messages = assistant.say(text)
    reply = "\n".join(m.get("text", "") for m in messages)
    assert "抱歉" in reply
    assert not any("custom" in m for m in messages), f"answered {text!r} from the FAQ: {messages}"


def test_asking_for_a_human(assistant):
    reply = assistant.texts("转人工")
    assert "人工客服" in reply


def test_thanks_and_goodbye_in_one_conversation(assistant):
    sender = uuid.uuid4().hex
    reply = assistant.texts("谢谢你", sender)
    assert "不客气" in reply or "应该的" in reply
    assert "再见" in assistant.texts("拜拜", sender)
