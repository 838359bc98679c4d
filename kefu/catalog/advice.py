"""Recommendations and comparisons over the catalog (the parts of an answer that weigh products)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu.catalog.matcher import compact
from kefu.catalog.questions import Budget
from kefu.catalog.records import Product

# What customers say about a use, and the words of the catalog that show a product suits it.
GIFT_WORDS = (
    "送女朋友",
    "送男朋友",
    "送人",
    "送礼",
    "礼物",
    "送妈妈",
    "送爸爸",
    "送朋友",
    "送老婆",
    "送老公",
)
GIFT_TERMS = ("礼盒", "礼品卡", "羊毛")
USE_TERMS = (
    "游泳", "跑步", "健身", "运动", "通勤", "飞机", "办公", "冬天", "保暖", "宝宝", "新生儿", "孩子", "儿童",
    "猫", "狗", "早餐", "咖啡", "降噪", "油性", "送礼",
)  # fmt: skip
CATEGORY_WORDS = {
    "衣服": "服装",
    "穿的": "服装",
    "吃的": "食品",
    "零食": "食品",
    "电子": "数码",
    "数码产品": "数码",
    "厨具": "厨房",
    "厨房电器": "厨房",
    "家电": "厨房",
    "宝宝用": "母婴",
    "宠物用品": "宠物",
    "护肤": "个护",
    "洗护": "个护",
    "床上用品": "家居",
    "家里用": "家居",
    "宝宝": "母婴",
    "孩子": "母婴",
    "小孩": "母婴",
}
# A use said one way, and the words the catalog says it with.
USE_SYNONYMS = {"冬天": ("零下", "加绒", "羽绒", "保暖"), "保暖": ("零下", "加绒", "羽绒", "羊毛")}
_NEGATION = re.compile(r"(不可|不能|不支持|不适合|不建议|不)$")
MAX_RECOMMENDED = 3
RECOMMEND_WORDS = (
    "推荐", "预算", "买什么", "买点什么", "买点啥", "买啥", "买哪个",
    "有什么适合", "有啥适合", "哪款适合", "有什么好",
)  # fmt: skip


def wants_recommendation(text: str) -> bool:
    """Whether the question asks for products to choose from ("推荐个耳机", "送女朋友买什么")."""
    hay = compact(text)
    return any(word in hay for word in RECOMMEND_WORDS + GIFT_WORDS)


@dataclass(frozen=True)
class Recommendation:
    product: Product
    reason: str


def _texts(product: Product) -> list[tuple[str, str]]:
    """(label, text) pairs a use word is looked for in: the specs, then name and description."""
    return [("简介", f"{product.name}，{product.description}"), *product.specs]


def _suits(product: Product, term: str) -> str | None:
    """The catalog text saying ``product`` suits ``term`` (not "不可游泳"), or None."""
    for label, text in _texts(product):
        for match in re.finditer(re.escape(term), text):
            if not _NEGATION.search(text[max(0, match.start() - 2) : match.start()]):
                return text if label == "简介" else f"{label}：{text}"
    return None


def criteria_of(text: str, categories: set[str]) -> tuple[list[str], list[str], bool]:
    """The categories, use terms and whether a gift is wanted, named in a recommendation question."""
    hay = compact(text)
    wanted = [c for c in sorted(categories) if c in hay]
    wanted += [c for word, c in CATEGORY_WORDS.items() if word in hay and c in categories and c not in wanted]
    uses = [term for term in USE_TERMS if term in hay]
    return wanted, uses, any(word in hay for word in GIFT_WORDS)


def recommend(
    products: list[Product], text: str, budget: Budget | None, named: set[str]
) -> tuple[list[Recommendation], str]:
    """Up to three products for the question, each with its reason; and the criteria in words."""
    categories, uses, gift = criteria_of(text, {p.category for p in products})
    chosen: list[tuple[int, Recommendation]] = []
    for product in products:
        if budget and (
            product.price > budget.high or (budget.low is not None and product.price < budget.low)
        ):
            continue
        if not (product.in_stock or product.presale):
            continue
        if named and product.sku not in named:
            continue
        if categories and product.category not in categories:
            continue
        terms = [t for use in uses for t in (use, *USE_SYNONYMS.get(use, ()))]
        reasons = list(dict.fromkeys(r for r in (_suits(product, term) for term in terms) if r))
        if uses and not reasons:
            continue
        if gift:
            gift_reason = next((r for r in (_suits(product, term) for term in GIFT_TERMS) if r), None)
            if gift_reason is None:
                continue
            reasons.append(gift_reason)
        reason = reasons[0] if reasons else product.description
        chosen.append((len(reasons), Recommendation(product, f"{product.price}元，{reason}")))
    chosen.sort(key=lambda pair: (-pair[0], -pair[1].product.price))
    words = []
    if budget:
        words.append(f"{budget.low}-{budget.high}元" if budget.low is not None else f"{budget.high}元以内")
    words += categories + uses + (["适合送礼"] if gift else [])
    return [r for _, r in chosen[:MAX_RECOMMENDED]], "、".join(words) or "符合条件"


def compare(first: Product, second: Product) -> list[str]:
    """Lines comparing two products: the price, then each spec both have."""
    lines = [f"价格：{first.name} {first.price}元；{second.name} {second.price}元"]
    for key, value in first.specs:
        other = second.spec(key)
        if other is not None:
            lines.append(f"{key}：{first.name} {value}；{second.name} {other}")
    if len(lines) == 1:
        lines.append(f"简介：{first.name} {first.description}；{second.name} {second.description}")
    return lines
