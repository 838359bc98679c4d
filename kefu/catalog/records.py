"""Products as plain, immutable objects: what the catalog file holds and the repository returns."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class Returnable(str, Enum):
    """The ``returnable_7d`` column: the 7-day no-reason return rule that applies to a product."""

    YES = "yes"
    NO = "no"
    UNOPENED_ONLY = "拆封后不支持"


@dataclass(frozen=True)
class VariantOption:
    """One value of a variant dimension (颜色: 白色); ``stock`` is None where stock is not held on it."""

    dimension: str
    value: str
    stock: int | None = None
    presale: bool = False

    @property
    def available(self) -> bool:
        return self.stock is not None and self.stock > 0


@dataclass(frozen=True)
class Product:
    """A product of the catalog with its variants and specs, in the file's order."""

    sku: str
    name: str
    category: str
    price: Decimal
    options: tuple[VariantOption, ...] = ()
    specs: tuple[tuple[str, str], ...] = ()
    returnable: Returnable = Returnable.YES
    carrier: str | None = None
    warranty: str | None = None
    presale_ship_date: dt.date | None = None
    description: str = ""
    aliases: tuple[str, ...] = ()

    def spec(self, key: str) -> str | None:
        """The value of spec ``key``, or None when the catalog does not have it."""
        return next((value for name, value in self.facts if name == key), None)

    @property
    def facts(self) -> tuple[tuple[str, str], ...]:
        """The specs, then the variant dimensions that hold no stock (表带: 可换，22毫米通用表带)."""
        dimensions: dict[str, list[str]] = {}
        for option in self.options:
            if option.stock is None and not option.presale:
                dimensions.setdefault(option.dimension, []).append(option.value)
        return self.specs + tuple((name, "、".join(values)) for name, values in dimensions.items())

    @property
    def stock_options(self) -> tuple[VariantOption, ...]:
        """The options stock is held on (the dimension with numbers or 预售)."""
        return tuple(o for o in self.options if o.stock is not None or o.presale)

    @property
    def presale(self) -> bool:
        return self.presale_ship_date is not None or any(o.presale for o in self.options)

    @property
    def in_stock(self) -> bool:
        return any(o.available for o in self.stock_options)

    @property
    def content_hash(self) -> str:
        """A digest of everything the import compares to decide whether a product changed."""
        content = {
            "name": self.name,
            "category": self.category,
            "price": str(self.price),
            "options": [[o.dimension, o.value, o.stock, o.presale] for o in self.options],
            "specs": [list(pair) for pair in self.specs],
            "returnable": self.returnable.value,
            "carrier": self.carrier,
            "warranty": self.warranty,
            "presale_ship_date": self.presale_ship_date.isoformat() if self.presale_ship_date else None,
            "description": self.description,
            "aliases": list(self.aliases),
        }
        return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
