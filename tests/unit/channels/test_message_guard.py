import pytest

from kefu.channels.message_guard import (
    EMPTY_MESSAGE_REPLY,
    RESERVED_METADATA_KEYS,
    TOO_LONG_MESSAGE_REPLY,
    UNREADABLE_MESSAGE_REPLY,
    MetadataRefused,
    checked_max_chars,
    client_metadata,
    guard_message,
    message_limit,
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


# ---- metadata ------------------------------------------------------------------------------------
def test_client_metadata_loses_every_reserved_key():
    forged = {key: {"owner": "x"} for key in RESERVED_METADATA_KEYS}

    assert client_metadata({**forged, "user_token": "t", "page": "/cart"}, 8192) == {
        "user_token": "t",
        "page": "/cart",
    }
    assert {"admin_session", "sdk_session", "client_ip"} <= RESERVED_METADATA_KEYS


def test_client_metadata_is_bounded():
    assert client_metadata({"a": "x" * 100}, 200) == {"a": "x" * 100}
    with pytest.raises(MetadataRefused) as refused:
        client_metadata({"a": "x" * 300}, 200)
    assert refused.value.status == 413 and "200" in str(refused.value)


def test_client_metadata_with_a_lone_surrogate_is_a_400():
    with pytest.raises(MetadataRefused) as refused:
        client_metadata({"a": "\ud800"}, 8192)
    assert refused.value.status == 400


def test_a_lone_surrogate_gets_the_polite_reply():
    assert guard_message("你好\udc00", 100) == UNREADABLE_MESSAGE_REPLY
    assert guard_message("你好😀", 100) is None


def test_the_message_limit_is_the_setting_unless_a_channel_sets_its_own():
    assert message_limit(None, 300) == 300
    assert message_limit(20, 300) == 20
    with pytest.raises(ValueError, match="MAX_MESSAGE_CHARS"):
        message_limit(0, 300)
