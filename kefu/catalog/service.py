"""The catalog service: answers a pre-sales question from the catalog, never beyond it.

Every answer names a domain response and its values; facts are the catalog's own words, read from
the database at each question (stock and price change at once). A product the shop doesn't sell,
or a spec the catalog doesn't have, gets ``no_info``/``unknown_product``: the assistant says so and
offers a human. The matcher is rebuilt when the catalog's version changes.
"""

from __future__ import annotations

import re
import threading
from typing import Callable, Protocol

from kefu.catalog import advice
from kefu.catalog.answers import (
    NO_FACT,
    ProductAnswer,
    fact_answer,
    no_info,
    no_info_near,
    product_button,
    returns_text,
)
from kefu.catalog.coverage import leaves_open
from kefu.catalog.matcher import Mention, ProductMatcher, compact
from kefu.catalog.questions import (
    asks_about_order,
    budget_in,
    column_aspect,
    height_in,
    names_a_thing,
    option_named,
    spec_keys_asked,
    wants_summary,
)
from kefu.catalog.records import Product

COMPARE_WORDS = (
    "区别",
    "哪个",
    "哪款",
    "对比",
    "比较",
    "比一比",
    "还是",
    "差别",
    "不同",
    "不一样",
    "vs",
    "一样吗",
)
SIZE_SPECS = ("身高参考", "版型", "鞋码", "尺码", "尺寸")
_RANGE = re.compile(r"([A-Za-z0-9]+)\s*(\d{3})\s*-\s*(\d{3})|([A-Za-z0-9]+)\s*(\d{3})以上")


class Catalog(Protocol):
    """What the service reads: :class:`kefu.db.products.ProductRepository` or a fake."""

    def all(self) -> list[Product]: ...

    def get(self, sku: str) -> Product | None: ...

    def version(self) -> str: ...


class CatalogService:
    """Answers product questions; ``ordered`` gives the product names of the customer's orders."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._matcher: tuple[str, ProductMatcher] | None = None

    def matcher(self) -> ProductMatcher:
        """The matcher over the catalog as it is now (rebuilt after an import)."""
        version = self.catalog.version()
        with self._lock:
            if self._matcher is None or self._matcher[0] != version:
                self._matcher = (version, ProductMatcher(self.catalog.all()))
            return self._matcher[1]

    def answer(
        self,
        question: str,
        intent: str | None = None,
        current_sku: str | None = None,
        previous_question: str | None = None,
        ordered: Callable[[], list[str]] | None = None,
        chosen: str | None = None,
    ) -> ProductAnswer:
        """The answer to ``question``; ``current_sku`` is the product talked about before,
        ``chosen`` the one the customer picked from a choice (the question is then the earlier one)."""
        matcher = self.matcher()
        mentions = matcher.find(question)
        if chosen is not None:
            product = self.catalog.get(chosen)
            if product is None:
                return ProductAnswer("unknown_product", "utter_product_unknown")
            return self._about(product, _without(compact(question), mentions))
        rest = _without(compact(question), mentions)
        if ordered is not None and asks_about_order(question):
            if not mentions:
                return self._about_bought(matcher, rest, ordered())
            mentions = self._ordered(matcher, mentions, ordered())
        singles = list(dict.fromkeys(m.skus[0] for m in mentions if len(m.skus) == 1))
        if len(singles) >= 2 and (intent == "compare_products" or any(w in rest for w in COMPARE_WORDS)):
            return self._compare(singles[0], singles[1])
        aspect = column_aspect(rest)
        if intent == "recommend_product" or (
            aspect in (None, "stock") and (advice.wants_recommendation(rest) or budget_in(rest) is not None)
        ):
            return self._recommend(question, mentions)
        ambiguous = next((m for m in mentions if len(m.skus) > 1), None)
        if ambiguous is not None and current_sku in ambiguous.skus:
            singles = [current_sku]  # "保温杯" after talking about one of the two: that one
        elif ambiguous is not None and not singles:
            options = [matcher.products[sku] for sku in ambiguous.skus]
            return ProductAnswer(
                "choose",
                "utter_product_choose",
                {"mention": ambiguous.text, "count": str(len(options))},
                tuple(product_button(p) for p in options),
            )
        sku = singles[0] if singles else current_sku
        if sku is None:
            named = _names_something(rest) or names_a_thing(rest)
            return ProductAnswer("unknown_product" if named else "which", _UNKNOWN[named])
        if not singles and _names_something(rest):
            return ProductAnswer("unknown_product", "utter_product_unknown")
        product = self.catalog.get(sku)  # live: stock and price as they are now
        if product is None:
            return ProductAnswer("unknown_product", "utter_product_unknown")
        follow_up = len(rest) <= 6 and not wants_summary(rest)
        if (
            previous_question
            and follow_up
            and column_aspect(rest) is None
            and not spec_keys_asked(rest, product)[1]
        ):
            # "那耳机呢" after "手表防水吗": the previous question, about the product now named
            rest = _without(compact(previous_question), matcher.find(previous_question))
        return self._about(product, rest)

    @staticmethod
    def _bought(matcher: ProductMatcher, names: list[str]) -> list[str]:
        found = [m.skus[0] for name in names for m in matcher.find(name)[:1] if len(m.skus) == 1]
        return list(dict.fromkeys(found))

    def _about_bought(self, matcher: ProductMatcher, rest: str, names: list[str]) -> ProductAnswer:
        """ "我买的那个能放洗碗机吗": the ordered product the question is about, or a choice."""
        products = [p for p in (self.catalog.get(sku) for sku in self._bought(matcher, names)) if p]
        answers = [self._about(product, rest) for product in products]
        answered = [a for a in answers if a.kind not in NO_FACT]
        if len(answered) == 1 or (len(answers) == 1 and answers):
            return (answered or answers)[0]
        if not products:
            return ProductAnswer("which", "utter_product_which")
        values = {"mention": "您买过的商品", "count": str(len(products))}
        return ProductAnswer(
            "choose", "utter_product_choose", values, tuple(product_button(p) for p in products)
        )

    def _ordered(self, matcher: ProductMatcher, mentions: list[Mention], names: list[str]) -> list[Mention]:
        bought = self._bought(matcher, names)
        if not bought:
            return mentions
        narrowed = []
        for mention in mentions:
            mine = tuple(sku for sku in mention.skus if sku in bought)
            narrowed.append(
                Mention(mention.start, mention.end, mention.text, mine or mention.skus, mention.exact)
            )
        return narrowed

    def _about(self, product: Product, rest: str) -> ProductAnswer:
        aspect = column_aspect(rest)
        option = option_named(rest, product)
        if aspect == "size" or (height_in(rest) and any(product.spec(k) for k in SIZE_SPECS)):
            return self._size(product, rest)
        keys, asked = spec_keys_asked(rest, product)
        if aspect in ("stock", "presale") or (aspect is None and option is not None and not keys):
            return self._stock(product, option, aspect == "presale")
        if aspect == "price":
            return fact_answer(
                product, "price", "utter_product_price", {"price": str(product.price)}, ("price_yuan",)
            )
        if aspect == "returns":
            return fact_answer(
                product,
                "returns",
                "utter_product_returns",
                {"returns": returns_text(product)},
                ("returnable_7d",),
            )
        if aspect == "warranty":
            if product.warranty is None:
                return fact_answer(product, "warranty", "utter_product_no_warranty", {}, ("warranty",))
            return fact_answer(
                product, "warranty", "utter_product_warranty", {"warranty": product.warranty}, ("warranty",)
            )
        if aspect == "carrier":
            if product.carrier is None:
                return no_info(product, "配送快递")
            return fact_answer(
                product, "carrier", "utter_product_carrier", {"carrier": product.carrier}, ("carrier",)
            )
        if keys:
            found = [(key, product.spec(key) or "") for key in keys]
            if leaves_open(rest, found):
                return no_info_near(product, found)
            facts = "；".join(f"{key}：{value}" for key, value in found)
            return fact_answer(product, "spec", "utter_product_fact", {"facts": facts}, tuple(keys))
        if asked or (_bare(rest) and not wants_summary(rest)):
            return no_info(product, "这一项")
        facts = "；".join(f"{key}：{value}" for key, value in product.specs[:3])
        values = {
            "category": product.category,
            "description": product.description,
            "price": str(product.price),
        }
        return fact_answer(
            product, "summary", "utter_product_summary", {**values, "facts": facts}, ("description",)
        )

    def _size(self, product: Product, rest: str) -> ProductAnswer:
        notes = "；".join(f"{k}：{product.spec(k)}" for k in SIZE_SPECS if product.spec(k))
        if not notes:
            return no_info(product, "尺码建议")
        height = height_in(rest)
        table = product.spec("身高参考")
        if height is not None and table:
            sizes = [
                m[1] or m[4]
                for m in _RANGE.finditer(table)
                if (m[1] and int(m[2]) <= height <= int(m[3])) or (m[4] and height >= int(m[5]))
            ]
            if sizes:
                values = {"height": str(height), "sizes": "或".join(sizes), "notes": notes}
                return fact_answer(product, "size", "utter_product_size_height", values, ("身高参考",))
        return fact_answer(
            product,
            "size",
            "utter_product_size",
            {"notes": notes},
            tuple(k for k in SIZE_SPECS if product.spec(k)),
        )

    def _stock(self, product: Product, option, presale_asked: bool) -> ProductAnswer:
        available = "、".join(o.value for o in product.stock_options if o.available)
        sold_out = "、".join(o.value for o in product.stock_options if o.stock == 0)
        if product.presale and (presale_asked or option is None or option.presale):
            date = product.presale_ship_date.isoformat() if product.presale_ship_date else "待定"
            return fact_answer(
                product, "presale", "utter_product_presale", {"ship_date": date}, ("presale_ship_date",)
            )
        if presale_asked:
            return fact_answer(
                product,
                "presale",
                "utter_product_ships",
                {"carrier": product.carrier or "快递"},
                ("carrier",),
            )
        if option is not None:
            if option.available:
                return fact_answer(
                    product, "stock", "utter_product_stock_option", {"option": option.value}, ("variants",)
                )
            if available:
                values = {"option": option.value, "available": available}
                return fact_answer(product, "stock", "utter_product_stock_option_out", values, ("variants",))
        if not available:
            return fact_answer(product, "stock", "utter_product_sold_out", {}, ("variants",))
        note = f"暂时缺货的是：{sold_out}。" if sold_out else ""
        return fact_answer(
            product, "stock", "utter_product_stock", {"available": available, "sold_out": note}, ("variants",)
        )

    def _compare(self, first_sku: str, second_sku: str) -> ProductAnswer:
        first, second = self.catalog.get(first_sku), self.catalog.get(second_sku)
        if first is None or second is None:
            return ProductAnswer("unknown_product", "utter_product_unknown")
        values = {
            "first": first.name,
            "second": second.name,
            "lines": "\n".join(advice.compare(first, second)),
        }
        buttons = (product_button(first), product_button(second))
        return ProductAnswer("compare", "utter_product_compare", values, buttons, first.sku, ("specs",))

    def _recommend(self, question: str, mentions: list[Mention]) -> ProductAnswer:
        named = {sku for mention in mentions for sku in mention.skus}
        products = self.catalog.all()
        found, criteria = advice.recommend(products, question, budget_in(question), named)
        if not found:
            return ProductAnswer("recommend_none", "utter_product_recommend_none", {"criteria": criteria})
        lines = "\n".join(f"{i}. {r.product.name}：{r.reason}" for i, r in enumerate(found, start=1))
        values = {"count": str(len(found)), "lines": lines}
        buttons = tuple(product_button(r.product) for r in found)
        sku = found[0].product.sku if len(found) == 1 else None
        return ProductAnswer(
            "recommend",
            "utter_product_recommend",
            values,
            buttons,
            sku or found[0].product.sku,
            ("price_yuan",),
        )


_UNKNOWN = {True: "utter_product_unknown", False: "utter_product_which"}


def _bare(rest: str) -> str:
    """The question without particles and punctuation: empty for "手表呢", "那个耳机？"."""
    return re.sub(r"[呢吗啊呀吧哦的那这个款个种一下看看?？,，.。!！~～]", "", rest)


def _without(hay: str, mentions: list[Mention]) -> str:
    for mention in sorted(mentions, key=lambda m: -m.start):
        hay = hay[: mention.start] + hay[mention.end :]
    return hay


_SELLS = re.compile(r"(卖|出售|上架).{0,2}[a-z\u4e00-\u9fff]{2,}")
_LATIN_WORD = re.compile(r"[a-z]{3,}")
_KNOWN_LATIN = frozenset(
    {"nfc", "usb", "ipx", "ios", "mac", "ipad", "iphone", "windows", "rgb", "amoled", "pro", "vs"}
)


def _names_something(rest: str) -> bool:
    """Whether a question without a known product names one anyway ("你们卖iPad吗")."""
    return bool(_SELLS.search(rest) or _names_other_product(rest))


def _names_other_product(rest: str) -> bool:
    """A Latin product name the catalog doesn't have (airpods, switch) in a follow-up question."""
    return any(word not in _KNOWN_LATIN for word in _LATIN_WORD.findall(rest))
