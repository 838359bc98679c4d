"""The check every channel runs on a customer's text before the assistant sees it."""

from __future__ import annotations

EMPTY_MESSAGE_REPLY = "您好像还没有输入内容哦，请问有什么可以帮您？"
TOO_LONG_MESSAGE_REPLY = "您的消息有点长，麻烦精简到{max_chars}字以内再发给我哦～"
# Sent when the assistant failed on a message and had said nothing (a store or model error).
FAILURE_REPLY = (
    "非常抱歉，系统暂时出了点小状况，没能处理您刚才的消息😣。"
    "请稍后再发一次，或发送“转人工”联系人工客服（在线时间每天9:00-21:00）。"
)

# Characters that render as nothing but are not whitespace to str.strip().
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def guard_message(text: str | None, max_chars: int) -> str | None:
    """The polite reply to send instead of processing ``text``, or None when the assistant may see it.

    Text that is missing, blank or invisible gets :data:`EMPTY_MESSAGE_REPLY`; text longer than
    ``max_chars`` characters (surrounding whitespace not counted) gets :data:`TOO_LONG_MESSAGE_REPLY`.
    """
    if text is None or not text.translate(_INVISIBLE).strip():
        return EMPTY_MESSAGE_REPLY
    if len(text.strip()) > max_chars:
        return TOO_LONG_MESSAGE_REPLY.format(max_chars=max_chars)
    return None


def checked_max_chars(max_chars: int) -> int:
    """``max_chars`` when it is a usable limit; raises ValueError naming the setting otherwise."""
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
        raise ValueError(f"MAX_MESSAGE_CHARS must be a whole number of at least 1, got {max_chars!r}")
    return max_chars
