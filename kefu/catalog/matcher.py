"""Finds the products a customer's message names, with names and aliases built from the catalog.

Each product is known by its full name, the parts of its name (智能手表 / S3), the shorter names
customers use for it (the endings of the Chinese part: 无线蓝牙耳机 -> 蓝牙耳机, 耳机), its model
code and the catalog's own ``aliases``. Typos in names of four characters or more are tolerated
(one edit; two from eight characters). A name shared by several products (保温杯) is a mention of
all of them: the caller asks which one is meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from kefu.catalog.records import Product
from kefu.text import normalize_text

# Everyday words for the catalog's own product words: a word here becomes an alias of the products
# that have the word it stands for (and nothing when no product has it).
COLLOQUIAL = {
    "鞋子": "运动鞋",
    "跑鞋": "运动鞋",
    "球鞋": "运动鞋",
    "裤子": "牛仔裤",
    "枕头": "乳胶枕",
    "袜子": "棉袜",
    "被套": "四件套",
    "床单": "四件套",
    "移动电源": "充电宝",
    "料理机": "破壁机",
    "榨汁机": "破壁机",
    "饭锅": "电饭煲",
    "水杯": "保温杯",
    "杯子": "保温杯",
    "音响": "音箱",
    "耳麦": "耳机",
    "礼卡": "礼品卡",
    "樱桃": "车厘子",
}
_LATIN_CODE = re.compile(r"^(?=.*[a-z])(?=.*\d)[a-z0-9]+$")
_SPLIT = re.compile(r"[\s/]+")
MIN_FUZZY = 4  # shorter names must be spelt right: 3-character windows match too much by chance


UNITS = (("毫升", "ml"), ("公斤", "kg"), ("厘米", "cm"))


def compact(text: str) -> str:
    """Text as the matcher compares it: normalised, lower case, without spaces, units as letters."""
    text = re.sub(r"\s+", "", normalize_text(text).lower())
    for word, unit in UNITS:
        text = re.sub(rf"(?<=\d){word}", unit, text)
    return text


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def aliases_of(product: Product) -> set[str]:
    """The names a product is known by, compacted."""
    names = {compact(product.name)} | {compact(a) for a in product.aliases}
    for part in _SPLIT.split(normalize_text(product.name).lower()):
        if _LATIN_CODE.match(part):
            names.add(part)  # a model code: s3, k8
        elif any(_is_han(c) for c in part) and all(_is_han(c) or c.isalpha() for c in part):
            # 无线蓝牙耳机 -> 蓝牙耳机, 耳机; 纯棉t恤 -> t恤: the endings a customer shortens it to.
            names.update(part[i:] for i in range(len(part) - 1) if any(_is_han(c) for c in part[i:]))
    return {name for name in names if len(name) >= 2}


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class Mention:
    """A span of the compacted text naming ``skus`` (several when the name is ambiguous)."""

    start: int
    end: int
    text: str
    skus: tuple[str, ...]
    exact: bool = True


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    alias: str
    exact: bool


class ProductMatcher:
    """Product mentions in a message, over the names and aliases of ``products``."""

    def __init__(self, products: Iterable[Product]) -> None:
        self.products = {product.sku: product for product in products}
        self._skus: dict[str, set[str]] = {}
        for product in self.products.values():
            for alias in aliases_of(product):
                self._skus.setdefault(alias, set()).add(product.sku)
        for word, target in COLLOQUIAL.items():
            owners = set().union(*(skus for alias, skus in self._skus.items() if alias.endswith(target)))
            if owners and word not in self._skus:
                self._skus[word] = owners
        self._latin = {alias for alias in self._skus if alias.isascii()}
        self._fuzzy = [alias for alias in self._skus if len(alias) >= MIN_FUZZY and not alias.isascii()]

    def find(self, text: str) -> list[Mention]:
        """The product mentions in ``text``, left to right; overlapping names form one mention."""
        hay = compact(text)
        hits = self._exact_hits(hay)
        hits += self._fuzzy_hits(hay, hits)
        return self._mentions(hay, hits)

    def _exact_hits(self, hay: str) -> list[_Hit]:
        hits = []
        for alias in self._skus:
            for match in re.finditer(re.escape(alias), hay):
                start, end = match.span()
                if alias in self._latin and (
                    (start > 0 and hay[start - 1].isascii() and hay[start - 1].isalnum())
                    or (end < len(hay) and hay[end].isascii() and hay[end].isalnum())
                ):
                    continue  # "s3" inside "s30" or "ks3" is not the model S3
                hits.append(_Hit(start, end, alias, True))
        return hits

    def _fuzzy_hits(self, hay: str, exact: list[_Hit]) -> list[_Hit]:
        covered = {i for hit in exact for i in range(hit.start, hit.end)}
        hits = []
        for alias in self._fuzzy:
            limit = 2 if len(alias) >= 8 else 1
            best: _Hit | None = None
            for size in (len(alias) - 1, len(alias), len(alias) + 1):
                for start in range(0, len(hay) - size + 1):
                    window = hay[start : start + size]
                    if not covered.isdisjoint(range(start, start + size)):
                        continue  # a name spelt right is there: no typo to tolerate
                    if window[0] != alias[0] and window[-1] != alias[-1]:
                        continue
                    if edit_distance(window, alias, limit) <= limit and (
                        best is None or size < best.end - best.start
                    ):
                        best = _Hit(start, start + size, alias, False)
            if best is not None:
                hits.append(best)
        return hits

    def _mentions(self, hay: str, hits: list[_Hit]) -> list[Mention]:
        # Overlapping or adjacent names ("保温杯500ml", "500ml的保温杯") are one mention; in it, the
        # products whose names cover most characters are the ones meant.
        hits.sort(key=lambda h: (h.start, -h.end))
        groups: list[list[_Hit]] = []
        for hit in hits:
            end = max(h.end for h in groups[-1]) if groups else -1
            if groups and (hit.start <= end or (hit.start == end + 1 and hay[end] == "的")):
                groups[-1].append(hit)
            else:
                groups.append([hit])
        mentions = []
        for group in groups:
            coverage: dict[str, set[int]] = {}
            for hit in group:
                weight = range(hit.start, hit.end) if hit.exact else range(hit.start, hit.end - 1)
                for sku in self._skus[hit.alias]:
                    coverage.setdefault(sku, set()).update(weight)
            top = max(len(chars) for chars in coverage.values())
            skus = tuple(sorted(sku for sku, chars in coverage.items() if len(chars) == top))
            start, end = min(h.start for h in group), max(h.end for h in group)
            mentions.append(Mention(start, end, hay[start:end], skus, all(h.exact for h in group)))
        return mentions
