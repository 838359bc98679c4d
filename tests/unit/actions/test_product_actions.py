from pathlib import Path

from rasa_sdk.events import SlotSet

from actions.product_actions import ActionAnswerProduct
from kefu.catalog.service import CatalogService
from kefu.catalog.sources import read_catalog
from tests.unit.actions.conftest import logged_in, make_tracker
from tests.unit.catalog.conftest import InMemoryCatalog

CATALOG = Path(__file__).resolve().parents[3] / "kefu" / "seed_data" / "products.csv"


def action(orders=None) -> ActionAnswerProduct:
    service = CatalogService(InMemoryCatalog(read_catalog(CATALOG)))
    return ActionAnswerProduct(lambda: service, (lambda: orders) if orders else None)


async def test_answers_with_the_source_and_remembers_the_product(dispatcher):
    events = await action().run(dispatcher, make_tracker("手表能游泳吗", "ask_product"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_product_fact" and "5ATM" in message["facts"]
    assert message["custom"]["source"] == {"type": "product", "id": "P1003", "field": "防水"}
    assert events == [SlotSet("product_sku", "P1003"), SlotSet("product_question", "手表能游泳吗")]


async def test_follow_up_uses_the_slot(dispatcher):
    tracker = make_tracker("续航多久", "ask_product", slots={"product_sku": "P1003"})
    await action().run(dispatcher, tracker, {})
    assert "典型使用14天" in dispatcher.messages[0]["facts"]


async def test_a_choice_button_answers_the_earlier_question(dispatcher):
    await action().run(dispatcher, make_tracker("保温杯能装牛奶吗", "ask_product"), {})
    assert dispatcher.messages[0]["response"] == "utter_product_choose"
    assert len(dispatcher.messages[0]["buttons"]) == 2
    tracker = make_tracker(
        '/ask_product{"product_sku": "P1033"}',
        "ask_product",
        slots={"product_sku": "P1033", "product_question": "保温杯能装牛奶吗"},
    )
    events = await action().run(dispatcher, tracker, {})
    assert dispatcher.messages[1]["response"] in ("utter_product_fact", "utter_product_no_info")
    assert dispatcher.messages[1]["product"] == "儿童保温杯 400ml"
    assert events == [SlotSet("product_sku", "P1033")]  # the question before the choice is kept


async def test_the_logged_in_customers_order(dispatcher, service, shop_settings):
    tracker = make_tracker("我买的那个空气炸锅能放洗碗机吗", "ask_product", metadata=logged_in("u1005"))
    await action(service).run(dispatcher, tracker, {})
    assert "可放洗碗机" in dispatcher.messages[0]["facts"]
    tracker = make_tracker("我买的那个能放洗碗机吗", "ask_product", metadata=logged_in("u1005"))
    await action(service).run(dispatcher, tracker, {})
    assert dispatcher.messages[1]["product"] == "空气炸锅 4L"


async def test_unknown_product_offers_a_human_without_a_source(dispatcher):
    await action().run(dispatcher, make_tracker("你们卖iPad吗", "ask_product"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_product_unknown" and not message["custom"]


async def test_database_down_is_an_apology(dispatcher):
    def broken():
        raise RuntimeError("database down")

    await ActionAnswerProduct(broken).run(dispatcher, make_tracker("手表多少钱", "ask_product"), {})
    assert dispatcher.messages[0]["response"] == "utter_product_service_down"


def test_every_response_the_catalog_names_is_in_the_domain_and_listed():
    import re

    import yaml

    from actions.product_actions import RESPONSES

    root = CATALOG.parents[2]
    named = set()
    for path in (root / "kefu" / "catalog").glob("*.py"):
        named.update(re.findall(r"\"(utter_product_[a-z_]+)\"", path.read_text(encoding="utf-8")))
    domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8"))["responses"]
    assert named <= set(RESPONSES) <= set(domain)
