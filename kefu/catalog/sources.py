"""Reads a catalog export in the format of the demo shop's ``products.csv`` (see its README).

``variants``: dimensions separated by ``;``, values by ``/``, a stock count or ``预售`` in
parentheses; ``specs``: ``key:value`` pairs separated by ``;``. An optional ``aliases`` column holds
other names customers use, separated by ``/``. XLSX exports are not read (openpyxl is not among the
project's dependencies): save the sheet as CSV (UTF-8) first.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from kefu.catalog.records import Product, Returnable, VariantOption

REQUIRED_COLUMNS = ("sku", "name", "category", "price_yuan", "variants", "specs", "returnable_7d")
_OPTION = re.compile(r"^(?P<value>.*?)\s*(?:\((?P<stock>\d+|预售)\))?$")


class CatalogSourceError(ValueError):
    """The catalog file can't be imported; the message names the file, line and column to fix."""


def parse_variants(raw: str) -> tuple[VariantOption, ...]:
    """``颜色:白色(45)/黑色(0)`` -> options; a value without parentheses holds no stock."""
    options: list[VariantOption] = []
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        dimension, sep, values = part.partition(":")
        if not sep or not values.strip():
            raise ValueError(f"variant {part!r} is not 'dimension:value/value'")
        for value in filter(None, (v.strip() for v in values.split("/"))):
            match = _OPTION.match(value)
            assert match is not None  # the pattern matches any string
            stock = match["stock"]
            options.append(
                VariantOption(
                    dimension=dimension.strip(),
                    value=match["value"],
                    stock=None if stock in (None, "预售") else int(stock),
                    presale=stock == "预售",
                )
            )
    return tuple(options)


def parse_specs(raw: str) -> tuple[tuple[str, str], ...]:
    """``蓝牙:5.3;续航:6小时`` -> ``(("蓝牙", "5.3"), ("续航", "6小时"))``."""
    specs = []
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        key, sep, value = part.partition(":")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"spec {part!r} is not 'key:value'")
        specs.append((key.strip(), value.strip()))
    return tuple(specs)


def parse_product(line: dict[str, str]) -> Product:
    """One CSV line as a product; ``ValueError`` names the column that is wrong."""

    def column(name: str) -> str:
        return (line.get(name) or "").strip()

    for name in ("sku", "name", "category", "price_yuan"):
        if not column(name):
            raise ValueError(f"column {name} is empty")
    try:
        price = Decimal(column("price_yuan")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(f"price_yuan {column('price_yuan')!r} is not a number") from None
    try:
        returnable = Returnable(column("returnable_7d") or "yes")
    except ValueError:
        allowed = ", ".join(r.value for r in Returnable)
        raise ValueError(f"returnable_7d {column('returnable_7d')!r} is not one of {allowed}") from None
    ship_date = column("presale_ship_date")
    try:
        presale = dt.date.fromisoformat(ship_date) if ship_date else None
    except ValueError:
        raise ValueError(f"presale_ship_date {ship_date!r} is not YYYY-MM-DD") from None
    try:
        options = parse_variants(column("variants"))
    except ValueError as exc:
        raise ValueError(f"variants: {exc}") from None
    try:
        specs = parse_specs(column("specs"))
    except ValueError as exc:
        raise ValueError(f"specs: {exc}") from None
    return Product(
        sku=column("sku"),
        name=column("name"),
        category=column("category"),
        price=price,
        options=options,
        specs=specs,
        returnable=returnable,
        carrier=column("carrier") or None,
        warranty=column("warranty") or None,
        presale_ship_date=presale,
        description=column("description"),
        aliases=tuple(filter(None, (a.strip() for a in column("aliases").split("/")))),
    )


def read_catalog(path: Path) -> list[Product]:
    """The products of a CSV export; :class:`CatalogSourceError` on anything that can't be imported."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        raise CatalogSourceError(
            f"{path}: XLSX files are not read; save the sheet as 'CSV UTF-8' and import that file"
        )
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CatalogSourceError(f"{path}: missing column(s) {', '.join(missing)} in the header line")
            products: list[Product] = []
            seen: set[str] = set()
            for number, line in enumerate(reader, start=2):
                try:
                    product = parse_product(line)
                except ValueError as exc:
                    raise CatalogSourceError(f"{path}, line {number}: {exc}") from None
                if product.sku in seen:
                    raise CatalogSourceError(f"{path}, line {number}: sku {product.sku} appears twice")
                seen.add(product.sku)
                products.append(product)
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogSourceError(f"{path}: can't be read as a UTF-8 CSV file ({exc})") from None
    return products
