"""Pre-sales questions over REST: facts from the catalog, carry-over, a digression inside the order
form, the customer's own order, choices, and no made-up facts."""

import uuid

import pytest

from kefu.db.products import ProductRepository
from kefu.security.tokens import issue_customer_token
from tests.e2e.conftest import TOKEN_SECRET

pytestmark = pytest.mark.e2e


def sources(messages: list[dict]) -> list[dict]:
    """The answer sources among the bot's messages (the REST channel sends them as custom messages)."""
    return [
        m["custom"]["source"]
        for m in messages
        if isinstance(m.get("custom"), dict) and "source" in m["custom"]
    ]


def test_a_spec_then_a_follow_up_about_the_same_product(assistant):
    sender = uuid.uuid4().hex
    messages = assistant.say("智能手表能戴着游泳吗", sender)
    assert "5ATM，可游泳佩戴" in " ".join(m.get("text", "") for m in messages)
    assert {"type": "product", "id": "P1003", "field": "防水"} in sources(messages)
    assert "典型使用14天" in assistant.texts("续航能用几天", sender)
    assert "顺丰" in assistant.texts("发什么快递", sender)


def test_size_advice_and_stock_with_alternatives(assistant):
    assert "M或L" in assistant.texts("纯棉T恤我身高175穿什么码")
    reply = assistant.texts("T恤XL码还有货吗")
    assert "暂时缺货" in reply and "S、M、L、XXL" in reply
    assert "2026-12-15" in assistant.texts("破壁机什么时候发货")


def test_stock_is_read_live_from_the_database(assistant):
    repository = ProductRepository(assistant.env["DATABASE_URL"])
    assert "暂时缺货" in assistant.texts("黑色的蓝牙耳机有货吗")
    repository.set_stock("P1001", "颜色", "黑色", 5)
    try:
        assert "黑色有货" in assistant.texts("黑色的蓝牙耳机有货吗")
    finally:
        repository.set_stock("P1001", "颜色", "黑色", 0)


def test_recommendation_has_buttons_to_ask_about_each(assistant):
    messages = assistant.say("推荐个300以内的耳机")
    assert "无线蓝牙耳机 Pro" in messages[0]["text"]
    assert {"title": "无线蓝牙耳机 Pro", "payload": '/ask_product{"product_sku": "P1001"}'} in messages[0][
        "buttons"
    ]


def test_an_ambiguous_name_gets_a_choice_and_the_choice_an_answer(assistant):
    sender = uuid.uuid4().hex
    choice = assistant.say("保温杯能装牛奶吗", sender)[0]
    assert [b["title"] for b in choice["buttons"]] == ["保温杯 500ml", "儿童保温杯 400ml"]
    assert "不建议装牛奶" in assistant.texts(choice["buttons"][0]["payload"], sender)


def test_unknown_products_and_specs_are_not_made_up(assistant):
    for question in ("你们卖iPad吗", "智能手表有GPS定位吗"):
        messages = assistant.say(question)
        assert "没有这项信息" in messages[0]["text"] and "转人工" in messages[0]["text"]
        assert sources(messages) == []  # no product fact, so no source


def test_a_logged_in_customer_asks_about_the_product_they_bought(assistant):
    metadata = {"user_token": issue_customer_token("u1005", TOKEN_SECRET, 3600)}
    assert "可放洗碗机" in assistant.texts("我买的那个空气炸锅能放洗碗机吗", metadata=metadata)


def test_a_product_question_inside_the_order_form_then_the_form_goes_on(assistant):
    sender = uuid.uuid4().hex
    assert "订单号" in assistant.texts("我的快递到哪了", sender)
    reply = assistant.texts("对了，手表能游泳吗", sender)
    assert "可游泳佩戴" in reply and "订单号" in reply
    assert "后4位" in assistant.texts("LT2026110103", sender)
