from __future__ import annotations

from kefu.wechat.replies import CHOICES_HEADER, MAX_TEXT_BYTES, chosen, render, split_text


def test_short_text_is_one_piece():
    assert split_text("  满99元包邮。 ") == ["满99元包邮。"]


def test_long_text_is_split_within_the_byte_limit_at_sentence_ends():
    text = "。".join(f"第{n}句话说明退换货规则" for n in range(400)) + "。"
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(len(piece.encode()) <= MAX_TEXT_BYTES for piece in pieces)
    assert all(piece.endswith("。") for piece in pieces)
    assert "".join(pieces) == text


def test_text_without_breaks_is_still_split():
    pieces = split_text("龙" * 3000, limit=100)
    assert all(len(p.encode()) <= 100 for p in pieces) and "".join(pieces) == "龙" * 3000


def test_buttons_become_numbered_choices_and_links():
    rendered = render(
        [
            {"text": "请问要办理哪一项？", "buttons": [{"title": "查订单", "payload": "/check_order"}]},
            {
                "buttons": [
                    {"title": "退款", "payload": "/refund"},
                    {"title": "帮助中心", "url": "https://shop.test/h"},
                ]
            },
            {"image": "https://shop.test/a.png"},
        ]
    )
    assert rendered.choices == ["/check_order", "/refund"]
    (text,) = rendered.texts
    assert CHOICES_HEADER in text and "1. 查订单" in text and "2. 退款" in text
    assert "帮助中心：https://shop.test/h" in text and "https://shop.test/a.png" in text


def test_a_number_picks_the_choice():
    assert chosen("2", ["/a", "/b"]) == "/b"
    assert chosen("２。", ["/a", "/b"]) == "/b"
    assert chosen("3", ["/a", "/b"]) is None
    assert chosen("2号订单", ["/a", "/b"]) is None
    assert chosen("1", []) is None
