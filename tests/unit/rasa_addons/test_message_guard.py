import pytest

from kefu.rasa_addons.message_guard import (
    EMPTY_MESSAGE_REPLY,
    TOO_LONG_MESSAGE_REPLY,
    checked_max_chars,
    guard_message,
)


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t", "\u3000\u3000", "\u200b", "\ufeff \u200d\u2060"])
def test_missing_blank_or_invisible_text_gets_the_empty_reply(text):
    assert guard_message(text, 10) == EMPTY_MESSAGE_REPLY


@pytest.mark.parametrize("text", ["你好", "a", "😀", "LT2026110103", "<b>hi</b>", " 退款 "])
def test_ordinary_text_passes(text):
    assert guard_message(text, 20) is None


def test_text_longer_than_the_limit_gets_the_shorten_reply_naming_the_limit():
    assert guard_message("退" * 11, 10) == "您的消息有点长，麻烦精简到10字以内再发给我哦～"
    assert guard_message("退" * 11, 10) == TOO_LONG_MESSAGE_REPLY.format(max_chars=10)


def test_limit_is_inclusive_and_ignores_surrounding_whitespace():
    assert guard_message("退" * 10, 10) is None
    assert guard_message("  " + "退" * 10 + "\n", 10) is None


def test_the_replies_are_polite_chinese():
    assert EMPTY_MESSAGE_REPLY == "您好像还没有输入内容哦，请问有什么可以帮您？"
    assert "{max_chars}" in TOO_LONG_MESSAGE_REPLY


def test_a_usable_limit_is_returned():
    assert checked_max_chars(1) == 1
    assert checked_max_chars(1000) == 1000


@pytest.mark.parametrize("limit", [0, -5, True, 1.5, "100"])
def test_an_unusable_limit_is_refused_naming_the_setting(limit):
    with pytest.raises(ValueError, match="MAX_MESSAGE_CHARS"):
        checked_max_chars(limit)
