import pytest

from kefu.catalog.matcher import ProductMatcher, aliases_of, edit_distance


@pytest.fixture(scope="module")
def matcher(demo_products) -> ProductMatcher:
    return ProductMatcher(demo_products)


def skus(matcher: ProductMatcher, text: str) -> list[tuple[str, ...]]:
    return [mention.skus for mention in matcher.find(text)]


def test_aliases_come_from_the_name(demo_products):
    watch = next(p for p in demo_products if p.sku == "P1003")
    assert {"智能手表s3", "智能手表", "手表", "s3"} <= aliases_of(watch)
    earbuds = next(p for p in demo_products if p.sku == "P1001")
    assert "pro" not in aliases_of(earbuds)  # a word without a digit is no model code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("手表能游泳吗", [("P1003",)]),
        ("S3防水吗", [("P1003",)]),
        ("那个蓝牙耳机续航多久", [("P1001",)]),
        ("这件T恤偏大吗", [("P1002",)]),
        ("猫粮适合幼猫吗", [("P1012",)]),
        ("500ml的保温杯", [("P1004",)]),
        ("鞋子偏大吗", [("P1006",)]),
    ],
)
def test_loose_names(matcher, text, expected):
    assert skus(matcher, text) == expected


def test_typos_in_longer_names(matcher):
    assert skus(matcher, "空气扎锅能放洗碗机吗") == [("P1009",)]
    assert skus(matcher, "智能首环续航") == [("P1016",)]


def test_a_shared_name_is_ambiguous_and_two_names_are_two_mentions(matcher):
    assert skus(matcher, "保温杯能装牛奶吗") == [("P1004", "P1033")]
    assert skus(matcher, "儿童保温杯多大") == [("P1033",)]
    assert skus(matcher, "手表和手环哪个好") == [("P1003",), ("P1016",)]


def test_model_codes_need_word_boundaries(matcher):
    assert skus(matcher, "s30有吗") == []
    assert skus(matcher, "你们卖iPad吗") == []


def test_edit_distance_stops_at_the_limit():
    assert edit_distance("空气炸锅", "空气扎锅", 1) == 1
    assert edit_distance("abcdef", "uvwxyz", 1) == 2
