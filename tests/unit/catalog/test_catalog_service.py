import dataclasses

from kefu.catalog.records import VariantOption


def test_spec_answer_quotes_the_catalog_and_cites_product_and_field(service):
    answer = service.answer("手表能游泳吗")
    assert answer.response == "utter_product_fact"
    assert "5ATM，可游泳佩戴" in answer.values["facts"]
    assert answer.source == {"type": "product", "id": "P1003", "field": "防水"}


def test_follow_up_is_about_the_product_of_the_conversation(service):
    assert service.answer("防水吗", current_sku="P1003").values["facts"].startswith("防水：5ATM")
    # a short follow-up naming another product asks the previous question about it
    answer = service.answer("那耳机呢", current_sku="P1003", previous_question="手表防水吗")
    assert answer.sku == "P1001" and "IPX4" in answer.values["facts"]


def test_size_advice_by_height(service):
    answer = service.answer("纯棉T恤175穿什么码")
    assert answer.kind == "size" and answer.values["sizes"] == "M或L"
    assert "偏大半码" in answer.values["notes"]
    assert "偏大半码" in service.answer("这件T恤偏大吗").values["notes"]


def test_stock_per_variant_with_alternatives(service):
    out = service.answer("T恤XL有货吗")
    assert out.response == "utter_product_stock_option_out"
    assert out.values["option"] == "XL" and out.values["available"] == "S、M、L、XXL"
    assert service.answer("T恤M码还有吗").response == "utter_product_stock_option"
    assert service.answer("手机壳有iPhone 16的吗").values["option"] == "iPhone 16"


def test_stock_is_read_live(service, catalog):
    tee = catalog.get("P1002")
    options = tuple(dataclasses.replace(o, stock=5) if o.value == "XL" else o for o in tee.options)
    catalog.put(dataclasses.replace(tee, options=options))
    assert service.answer("T恤XL有货吗").response == "utter_product_stock_option"


def test_presale_says_when_shipping_starts(service):
    answer = service.answer("破壁机什么时候发货")
    assert answer.kind == "presale" and answer.values["ship_date"] == "2026-12-15"
    assert service.answer("破壁机有货吗").kind == "presale"


def test_price_and_after_sales(service):
    assert service.answer("猫粮多少钱").values["price"] == "259.00"
    assert "不支持7天无理由退货" in service.answer("车厘子能退吗").values["returns"]
    assert "拆封后不支持" in service.answer("大米能退吗").values["returns"]
    assert service.answer("键盘保修多久").values["warranty"] == "1年整机保修，键帽6个月"
    assert service.answer("手表发什么快递").values["carrier"] == "顺丰"


def test_recommendation_within_budget_and_by_use(service):
    answer = service.answer("推荐个300以内的耳机", "recommend_product")
    assert answer.kind == "recommend" and "无线蓝牙耳机 Pro" in answer.values["lines"]
    assert [b["payload"] for b in answer.buttons] == ['/ask_product{"product_sku": "P1001"}']
    swim = service.answer("适合游泳的有什么推荐", "recommend_product")
    assert "智能手表 S3" in swim.values["lines"] and "耳机" not in swim.values["lines"]  # 耳机: 不可游泳
    cheap = service.answer("100元以内的数码产品推荐", "recommend_product")
    assert cheap.kind == "recommend" and int(cheap.values["count"]) <= 3
    assert service.answer("推荐个30元以内的数码", "recommend_product").kind == "recommend_none"


def test_comparison_on_shared_specs(service):
    answer = service.answer("手表和手环有什么区别", "compare_products")
    assert answer.kind == "compare"
    assert "防水：智能手表 S3 5ATM，可游泳佩戴，不可潜水和洗热水澡；智能手环 5 5ATM" in answer.values["lines"]


def test_never_invents_a_fact(service):
    assert service.answer("手表有GPS吗").kind == "no_info"
    assert service.answer("手表有GPS吗").source is None
    assert service.answer("你们卖iPad吗").kind == "unknown_product"
    assert service.answer("你们卖iPad吗", current_sku="P1003").kind == "unknown_product"
    assert service.answer("防水吗").kind == "which"  # no product named, none before
    assert service.answer("猫粮适合几斤的猫").kind in ("spec", "no_info")


def test_ambiguous_name_offers_a_choice_then_answers_the_choice(service):
    choice = service.answer("保温杯能装牛奶吗")
    assert choice.kind == "choose" and [b["title"] for b in choice.buttons] == [
        "保温杯 500ml",
        "儿童保温杯 400ml",
    ]
    answer = service.answer("保温杯能装牛奶吗", chosen="P1004")
    assert "不建议装牛奶" in answer.values["facts"]


def test_the_product_of_the_customers_order(service):
    answer = service.answer("我买的那个能放洗碗机吗", ordered=lambda: ["空气炸锅 4L", "有机大米 5kg"])
    assert answer.sku == "P1009" and "可放洗碗机" in answer.values["facts"]
    mine = service.answer("我买的保温杯能装牛奶吗", ordered=lambda: ["保温杯 500ml"])
    assert mine.sku == "P1004"


def test_matcher_follows_an_import(service, catalog):
    assert service.answer("你们卖扫地机器人吗").kind == "unknown_product"
    robot = dataclasses.replace(
        catalog.get("P1024"), sku="P2001", name="扫地机器人 R1", options=(VariantOption("颜色", "白色", 3),)
    )
    catalog.put(robot)
    assert service.answer("扫地机器人有货吗").sku == "P2001"


def test_a_fact_near_the_question_is_shown_as_near_not_as_the_answer(service):
    answer = service.answer("耳机支持双设备连接吗")
    assert answer.kind == "no_info" and answer.response == "utter_product_no_info_near"
    assert answer.values["facts"] == "蓝牙：5.3"
    assert answer.source is None


def test_a_product_the_shop_does_not_sell_is_said_so_without_a_selling_word(service):
    for question in ("小米手机多少钱", "冰箱有现货吗", "投影仪怎么卖"):
        assert service.answer(question).kind == "unknown_product", question
    for question in ("多少钱", "有货吗", "蓝色的有吗"):
        assert service.answer(question).kind == "which", question


def test_a_fact_found_by_two_shared_characters(service):
    answer = service.answer("婴儿湿巾含酒精吗")
    assert answer.kind == "spec" and "无酒精" in answer.values["facts"]
