"""A pre-sales answer: a domain response, its values from the catalog, and its source."""

from __future__ import annotations

from dataclasses import dataclass, field

from kefu.catalog.records import Product, Returnable

# No answer: these kinds carry no product fact, so their answers cite no source.
NO_FACT = frozenset({"unknown_product", "no_info", "which", "choose", "recommend_none"})


@dataclass(frozen=True)
class ProductAnswer:
    """A domain response with its values; ``sku`` is the product now being talked about."""

    kind: str
    response: str
    values: dict[str, str] = field(default_factory=dict)
    buttons: tuple[dict[str, str], ...] = ()
    sku: str | None = None
    fields: tuple[str, ...] = ()

    @property
    def source(self) -> dict[str, str] | None:
        """Where the facts come from (product and field), like knowledge answers carry theirs."""
        if self.kind in NO_FACT or self.sku is None:
            return None
        return {"type": "product", "id": self.sku, "field": "、".join(self.fields) or self.kind}


def product_button(product: Product) -> dict[str, str]:
    return {"title": product.name, "payload": f'/ask_product{{"product_sku": "{product.sku}"}}'}


def fact_answer(
    product: Product, kind: str, response: str, values: dict[str, str], fields: tuple[str, ...]
) -> ProductAnswer:
    return ProductAnswer(kind, response, {"product": product.name, **values}, (), product.sku, fields)


def no_info(product: Product, topic: str) -> ProductAnswer:
    return ProductAnswer(
        "no_info", "utter_product_no_info", {"product": product.name, "topic": topic}, (), product.sku
    )


def no_info_near(product: Product, facts: list[tuple[str, str]]) -> ProductAnswer:
    """No answer to the question, with the facts that come near it (so the customer can judge)."""
    values = {"product": product.name, "facts": "；".join(f"{key}：{value}" for key, value in facts)}
    return ProductAnswer("no_info", "utter_product_no_info_near", values, (), product.sku)


def returns_text(product: Product) -> str:
    text = {
        Returnable.YES: "支持签收后7天无理由退货（商品未使用、吊牌完好、包装齐全）",
        Returnable.UNOPENED_ONLY: "未拆封的支持签收后7天无理由退货，拆封后不支持",
        Returnable.NO: "不支持7天无理由退货",
    }[product.returnable]
    after_sales = product.spec("售后")
    return f"{text}。{after_sales}" if after_sales and product.returnable is Returnable.NO else text
