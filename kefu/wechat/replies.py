"""The assistant's replies as WeChat text: split within WeChat's limit, buttons as numbered choices.

WeChat text has no buttons: a reply's buttons become "回复数字" choices (the payloads are kept, so
that the customer's "1" is sent on as the first button's payload) and link buttons become links.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# WeChat refuses text messages over 2048 bytes (UTF-8); a margin for the numbering.
MAX_TEXT_BYTES = 2000
CHOICES_HEADER = "请回复数字选择："
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_BREAKS = ("\n\n", "\n", "。", "！", "？", "；", "，", " ")


@dataclass(frozen=True)
class Rendered:
    """Texts to send, in order, and the payloads of the numbered choices they offer."""

    texts: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)


def _fits(text: str, limit: int) -> bool:
    return len(text.encode("utf-8")) <= limit


def _cut(text: str, limit: int) -> int:
    """Where to cut ``text`` so that the head fits ``limit`` bytes, at a natural break if any."""
    low, high = 1, len(text)  # the longest head that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _fits(text[:middle], limit) else (low, middle - 1)
    head = text[:low]
    for mark in _BREAKS:
        at = head.rfind(mark)
        if at >= low // 2:
            return at + len(mark)
    return low


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-8 bytes, cut at paragraph, line or sentence ends."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if _fits(rest, limit):
            pieces.append(rest)
            break
        at = _cut(rest, limit)
        pieces.append(rest[:at].strip())
        rest = rest[at:].strip()
    return [piece for piece in pieces if piece]


def _buttons(buttons: Sequence[Any], choices: list[str]) -> list[str]:
    lines: list[str] = []
    for button in buttons:
        if not isinstance(button, Mapping):
            continue
        title, payload = str(button.get("title") or "").strip(), str(button.get("payload") or "").strip()
        url = str(button.get("url") or "")
        if url.startswith(("https://", "http://")) or payload.startswith(("https://", "http://")):
            lines.append(f"{title or '链接'}：{url or payload}")
        elif title and payload:
            choices.append(payload)
            lines.append(f"{len(choices)}. {title}")
    if choices:
        lines.insert(0, CHOICES_HEADER)
    return lines


def render(messages: Iterable[Mapping[str, Any]]) -> Rendered:
    """The collected bot messages (Rasa's ``CollectingOutputChannel.messages``) as WeChat texts."""
    parts: list[str] = []
    choices: list[str] = []
    for message in messages:
        lines = [str(message["text"]).strip()] if message.get("text") else []
        if isinstance(message.get("image"), str):
            lines.append(message["image"])
        buttons = message.get("buttons") or message.get("quick_replies") or []
        lines.extend(_buttons(buttons if isinstance(buttons, list) else [], choices))
        if any(lines):
            parts.append("\n".join(line for line in lines if line))
    return Rendered(split_text("\n\n".join(parts)), choices)


def chosen(text: str, choices: Sequence[str]) -> str | None:
    """The payload the customer picked by answering with a choice's number, else None."""
    number = text.strip().rstrip(".。").translate(_FULL_WIDTH_DIGITS)
    if re.fullmatch(r"\d{1,2}", number) and 1 <= int(number) <= len(choices):
        return choices[int(number) - 1]
    return None
