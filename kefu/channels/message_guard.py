"""The checks every channel runs on a customer's text and metadata before the assistant sees them."""

from __future__ import annotations

import json
from typing import Any

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
    ``max_chars`` characters (surrounding whitespace not counted) gets :data:`TOO_LONG_MESSAGE_REPLY`;
    text that is not valid Unicode (a lone surrogate) gets :data:`UNREADABLE_MESSAGE_REPLY`.
    """
    if text is None or not text.translate(_INVISIBLE).strip():
        return EMPTY_MESSAGE_REPLY
    if not encodable(text):
        return UNREADABLE_MESSAGE_REPLY
    if len(text.strip()) > max_chars:
        return TOO_LONG_MESSAGE_REPLY.format(max_chars=max_chars)
    return None


def checked_max_chars(max_chars: int) -> int:
    """``max_chars`` when it is a usable limit; raises ValueError naming the setting otherwise."""
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
        raise ValueError(f"MAX_MESSAGE_CHARS must be a whole number of at least 1, got {max_chars!r}")
    return max_chars


def message_limit(max_chars: int | None, setting: int) -> int:
    """The checked limit of a customer message: a channel's own ``max_chars``, else the ``setting``
    (``MAX_MESSAGE_CHARS``)."""
    return checked_max_chars(setting if max_chars is None else max_chars)


UNREADABLE_MESSAGE_REPLY = "抱歉，您的消息里有无法识别的字符，麻烦换个说法再发一次哦～"

# Metadata keys only the server writes: who owns a conversation, and the client's address the
# verification lock-out counts (kefu.security.verification.CLIENT_IP_KEY). A client's metadata never
# carries them into the conversation, on any channel.
RESERVED_METADATA_KEYS = frozenset({"admin_session", "sdk_session", "agent", "conversation_key", "client_ip"})


class MetadataRefused(ValueError):
    """A client's metadata can't be accepted; ``status`` is the HTTP status (400 or 413)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def encodable(text: str) -> bool:
    """False for text that is not valid Unicode (a lone surrogate from a JSON ``\\ud800`` escape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def client_metadata(
    metadata: dict[str, Any] | None, max_bytes: int, field: str = "metadata"
) -> dict[str, Any]:
    """A client's metadata (or another object ``field``) without the reserved keys; raises
    :class:`MetadataRefused` when its JSON is larger than ``max_bytes`` (413) or not valid Unicode
    (400)."""
    if not metadata:
        return {}
    try:
        size = len(json.dumps(metadata, ensure_ascii=False).encode("utf-8"))
    except (UnicodeEncodeError, ValueError, RecursionError) as exc:
        raise MetadataRefused(
            f"{field} 含有无法识别的字符。 The field {field!r} is not valid Unicode JSON.", 400
        ) from exc
    if size > max_bytes:
        raise MetadataRefused(
            f"{field} 超过 {max_bytes} 字节。 The field {field!r} is larger than {max_bytes} bytes.",
            413,
        )
    return {k: v for k, v in metadata.items() if k not in RESERVED_METADATA_KEYS}
