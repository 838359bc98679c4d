import pytest

from kefu.text import find_order_ids, is_meaningful, normalize_order_id, normalize_text


def test_full_width_and_traditional_become_half_width_simplified():
    assert normalize_text("退貨運費誰出？ＬＴ２０２６　ok") == "退货运费谁出?LT2026 ok"


@pytest.mark.parametrize(
    "text", ["", "普通的简体句子", "訂單號碼：ＬＴ２０２６１１０１０３，謝謝！", "😀 emoji ✨"]
)
def test_normalisation_preserves_length(text):
    assert len(normalize_text(text)) == len(text)


@pytest.mark.parametrize(
    "typed",
    [
        "LT2026110103",
        "lt2026110103",
        "我的订单 LT 2026 1101 03 到哪了",
        "ＬＴ２０２６１１０１０３",
        "Lt-2026-110103呢",
    ],
)
def test_order_ids_are_understood_however_typed(typed):
    assert normalize_order_id(typed) == "LT2026110103"


@pytest.mark.parametrize(
    "text", ["LT123", "订单2026110103", "LT20261101039999 多了", "SALT2026110103", "没有订单号"]
)
def test_no_order_id_when_the_number_is_not_one(text):
    assert normalize_order_id(text) is None


def test_all_order_ids_in_order_without_repeats():
    assert find_order_ids("LT2026110101 和 ＬＴ２０２６１１０１０２ 还有 lt2026110101") == [
        "LT2026110101",
        "LT2026110102",
    ]


def test_meaningful_text_has_letters_or_digits():
    assert is_meaningful("hi")
    assert is_meaningful("退货")
    assert not is_meaningful("😀😀！！ ")
