"""Normalisation of customers' Chinese text: full-width to half-width, traditional to simplified.

Every function here preserves the text's length, character for character, so that entity
positions found on the normalised text are valid on the original text too.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_FULLWIDTH_OFFSET = 0xFEE0
_ORDER_ID = re.compile(r"(?<![A-Za-z])[Ll][Tt][\s\-_]*((?:\d[\s\-_]*){9}\d)(?![\d])")


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    """A translation table: full-width ASCII and ideographic space to half-width, and the
    single-character traditional-to-simplified mappings of zhconv's zh2Hans dictionary."""
    from zhconv import zhconv  # imported lazily: the dictionary takes ~0.1 s to load

    zhconv.loaddict()
    table = {
        ord(trad): simp
        for trad, simp in zhconv.zhcdicts["zh2Hans"].items()
        if len(trad) == 1 and len(simp) == 1
    }
    for code in range(0xFF01, 0xFF5F):
        table[code] = chr(code - _FULLWIDTH_OFFSET)
    table[0x3000] = " "
    return table


def normalize_text(text: str) -> str:
    """Full-width ASCII to half-width and traditional to simplified characters, same length."""
    if not text:
        return ""
    return text.translate(_table())


def normalize_order_id(raw: str) -> str | None:
    """The canonical order number (``LT`` + 10 digits) in ``raw``, however it was typed, or None."""
    match = _ORDER_ID.search(normalize_text(raw))
    if not match:
        return None
    return "LT" + re.sub(r"\D", "", match.group(1))


def find_order_ids(text: str) -> list[str]:
    """Every canonical order number in a text, in order of appearance, without repeats."""
    found: list[str] = []
    for match in _ORDER_ID.finditer(normalize_text(text)):
        order_id = "LT" + re.sub(r"\D", "", match.group(1))
        if order_id not in found:
            found.append(order_id)
    return found


def is_meaningful(text: str) -> bool:
    """True when a text holds at least one letter, digit or CJK character (not only emoji/punctuation)."""
    return any(unicodedata.category(ch)[0] in {"L", "N"} for ch in text)


_QUESTION_CUES = (
    "怎么",
    "怎样",
    "如何",
    "咋",
    "能不能",
    "可不可以",
    "可以吗",
    "能吗",
    "行吗",
    "多久",
    "多长时间",
    "几天",
    "哪家",
    "哪个",
    "什么",
    "啥",
    "吗",
    "呢",
    "?",
    "how",
    "what",
    "when",
    "which",
    "can i",
)


def looks_like_question(text: str) -> bool:
    """True for a how/what/when/can-I question, as opposed to a bare request ("帮我取消订单")."""
    lowered = normalize_text(text).lower()
    return any(cue in lowered for cue in _QUESTION_CUES)
