"""Whether the facts found for a question answer it, or only come near it.

A fact found by an everyday word ("连接" for 蓝牙) may still leave the question open: "多厚" asks for a
measure the value doesn't give, "支持双设备连接吗" asks about something the value doesn't mention.
Then the honest answer says the catalog doesn't have it, and shows what it does have.
"""

from __future__ import annotations

import re

from kefu.catalog.matcher import compact
from kefu.catalog.questions import SPEC_WORDS

# A question for a number: how thick, heavy, long, big, many...
_MEASURE = re.compile(r"多(?:厚|重|长|宽|高|大|久|少|远|深)|几(?:个|种|年|天|小时|分钟|斤|克|米|层|档|款)?")
_NUMBER = re.compile(r"[0-9一二两三四五六七八九十百千万半]")
# A yes/no question about one thing: "能连电脑吗", "支持双设备连接吗", "会不会起球".
_YES_NO = re.compile(
    r"(?:能不能|可不可以|支不支持|有没有|会不会|带不带|是不是|能|可以|支持|会|带|有)(?P<thing>[\u4e00-\u9fffa-z0-9]{2,})"
    r"(?:吗|么|嘛)?$"
)
_PARTICLES = re.compile(r"[呢吗啊呀吧哦么嘛?？,，.。!！~～ ]+$")
# Verbs of using something and aspect marks around the thing asked: "戴着游泳" asks about 游泳.
_FILLER = "着了过戴穿用拿带放在"


def triggers(hay: str) -> list[str]:
    """The everyday spec words of :data:`SPEC_WORDS` found in the compacted question."""
    return [word for words, _ in SPEC_WORDS for word in words if word in hay]


def leaves_open(question: str, facts: list[tuple[str, str]]) -> bool:
    """Whether ``facts`` (key, value) fail to answer ``question`` (the question without the product)."""
    hay = _PARTICLES.sub("", compact(question))
    text = "".join(key + value for key, value in facts)
    if _asks_measure(hay) and not _NUMBER.search("".join(value for _, value in facts)):
        return True
    thing = _thing_asked(hay)
    if thing is None:
        return False
    for word in triggers(hay):
        if thing in word:
            return False  # the word of the question is the one the facts were found by
        thing = thing.replace(word, "")
    thing = thing.strip(_FILLER)
    grams = [thing[i : i + 2] for i in range(len(thing) - 1)]
    return bool(grams) and sum(gram in text for gram in grams) * 2 < len(grams)


def _asks_measure(hay: str) -> bool:
    return bool(_MEASURE.search(hay.replace("多少钱", "")))


def _thing_asked(hay: str) -> str | None:
    match = _YES_NO.search(hay)
    return match["thing"] if match else None
