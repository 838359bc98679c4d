"""What a WeChat message asks of the assistant: text for Rasa, a direct reply, or nothing.

Customer-facing wording of the channel itself lives here (like ``message_guard``): the assistant's
own answers come from ``domain.yml``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from wechatpy.messages import BaseMessage

from kefu.wechat.protocol import field

VOICE_UNREADABLE = "抱歉，这条语音我没能听清😣，麻烦您用文字再说一遍好吗？"
UNSUPPORTED = "抱歉，我暂时只能看懂文字消息哦～请用文字描述您的问题，或发送“转人工”联系人工客服。"
MENU_UNKNOWN = "抱歉，这个菜单暂时不可用，请直接用文字告诉我您想办理什么吧～"
BOUND = "绑定成功！之后在微信里查询订单，无需再验证手机号。发送“解除绑定”可随时解除。"
BIND_FAILED = "抱歉，这个绑定码无效或已过期😣。请在龙堂商城登录后，到“账号-绑定微信”重新获取绑定码发给我。"
UNBOUND = "已为您解除微信与商城账号的绑定。"
GREETING_INTENT = "greet"

_BIND = re.compile(r"^\s*(?:绑定|bind)\s*[:：]?\s*(eyJ[\w.-]+)\s*$", re.IGNORECASE)
_UNBIND = re.compile(r"^\s*(?:解除绑定|取消绑定|unbind)\s*$", re.IGNORECASE)
_INTENT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Turn:
    """``text`` for the assistant, or ``reply`` to send as it is; neither: nothing to answer."""

    text: str | None = None
    reply: str | None = None
    bind_token: str | None = None
    unbind: bool = False


def part(message: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A JSON message's object field (``text``, ``event``), empty when absent or not an object."""
    value = message.get(name)
    return value if isinstance(value, Mapping) else {}


def _intent(key: str, intents: Collection[str]) -> Turn:
    return Turn(text=f"/{key}") if _INTENT_KEY.match(key) and key in intents else Turn(reply=MENU_UNKNOWN)


def text_turn(text: str) -> Turn:
    """A customer's text: a binding command, or a message for the assistant."""
    if bind := _BIND.match(text):
        return Turn(bind_token=bind.group(1))
    if _UNBIND.match(text):
        return Turn(unbind=True)
    return Turn(text=text)


def mp_turn(message: BaseMessage, intents: Collection[str]) -> Turn:
    """The turn of a 公众号 message or event (wechatpy's parsed message)."""
    kind = field(message, "MsgType").lower()
    if kind == "text":
        return text_turn(field(message, "Content"))
    if kind == "voice":
        recognised = field(message, "Recognition")
        return Turn(text=recognised) if recognised else Turn(reply=VOICE_UNREADABLE)
    if kind == "event":
        event = field(message, "Event").lower()
        if event == "subscribe":
            return Turn(text=f"/{GREETING_INTENT}")
        if event == "click":
            return _intent(field(message, "EventKey"), intents)
        return Turn()  # unsubscribe, VIEW, LOCATION...: nothing to answer
    return Turn(reply=UNSUPPORTED)


def wecom_turn(message: Mapping[str, Any], intents: Collection[str]) -> Turn:
    """The turn of a WeCom customer-service message from ``sync_msg`` (JSON)."""
    kind = message.get("msgtype")
    if kind == "text":
        text = part(message, "text")
        menu = text.get("menu_id")
        if isinstance(menu, str) and menu:
            return _intent(menu, intents)
        content = text.get("content")
        return text_turn(content) if isinstance(content, str) else Turn(reply=UNSUPPORTED)
    if kind == "event":
        event = part(message, "event")
        return Turn(text=f"/{GREETING_INTENT}") if event.get("event_type") == "enter_session" else Turn()
    if kind == "voice":
        return Turn(reply=VOICE_UNREADABLE)
    return Turn(reply=UNSUPPORTED)
