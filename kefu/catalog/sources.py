"""Reads a catalog export in the format of the demo shop's ``products.csv`` (see its README).

``variants``: dimensions separated by ``;``, values by ``/``, a stock count or ``预售`` in
parentheses; ``specs``: ``key:value`` pairs separated by ``;``. An optional ``aliases`` column holds
other names customers use, separated by ``/``. A ``.xlsx`` export is read from its first sheet with
the same columns in its first row (see :mod:`kefu.catalog.xlsx`); the old ``.xls`` format is not.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path

from kefu.catalog.records import Product, Returnable, VariantOption

REQUIRED_COLUMNS = ("sku", "name", "category", "price_yuan", "variants", "specs", "returnable_7d")
_OPTION = re.compile(r"^(?P<value>.*?)\s*(?:\((?P<stock>\d+|预售)\))?$")


class CatalogSourceError(ValueError):
    """The catalog file can't be imported; the message names the file, line and column to fix."""


class ColumnError(ValueError):
    """A value of one line that can't be imported; ``column`` names the column it is in."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


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
    """One line of the export as a product; :class:`ColumnError` names the column that is wrong."""

    def column(name: str) -> str:
        return (line.get(name) or "").strip()

    for name in ("sku", "name", "category", "price_yuan"):
        if not column(name):
            raise ColumnError(name, f"column {name} is empty")
    try:
        price = Decimal(column("price_yuan")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ColumnError("price_yuan", f"price_yuan {column('price_yuan')!r} is not a number") from None
    try:
        returnable = Returnable(column("returnable_7d") or "yes")
    except ValueError:
        allowed = ", ".join(r.value for r in Returnable)
        raise ColumnError(
            "returnable_7d", f"returnable_7d {column('returnable_7d')!r} is not one of {allowed}"
        ) from None
    ship_date = column("presale_ship_date")
    try:
        presale = dt.date.fromisoformat(ship_date) if ship_date else None
    except ValueError:
        raise ColumnError("presale_ship_date", f"presale_ship_date {ship_date!r} is not YYYY-MM-DD") from None
    try:
        options = parse_variants(column("variants"))
    except ValueError as exc:
        raise ColumnError("variants", f"variants: {exc}") from None
    try:
        specs = parse_specs(column("specs"))
    except ValueError as exc:
        raise ColumnError("specs", f"specs: {exc}") from None
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
    """The products of a CSV or .xlsx export; :class:`CatalogSourceError` on anything that can't be imported.

    The whole file is read and checked before anything is returned, so an import either gets every
    product or none.
    """
    if path.suffix.lower() == ".xls":
        raise CatalogSourceError(
            f"{path}: the old .xls format is not read; save the sheet as .xlsx or as 'CSV UTF-8'"
        )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_workbook(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            _check_header(reader.fieldnames or [], f"{path}: missing column(s) {{}} in the header line")
            return _products(
                ((reader.line_num, line) for line in reader), lambda number, _: f"{path}, line {number}"
            )
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogSourceError(f"{path}: can't be read as a UTF-8 CSV file ({exc})") from None


def _read_workbook(path: Path) -> list[Product]:
    from kefu.catalog.xlsx import WorkbookError, column_letter, open_first_sheet

    try:
        with open_first_sheet(path) as sheet:
            _check_header(
                sheet.header,
                f"{path}, sheet {sheet.title!r}: missing column(s) {{}} in the header row (row 1)",
            )
            letters = {name: column_letter(index) for index, name in enumerate(sheet.header)}

            def where(number: int, column: str | None) -> str:
                cell = f", column {letters[column]} ({column})" if column in letters else ""
                return f"{path}, sheet {sheet.title!r}, row {number}{cell}"

            return _products(sheet.rows, where)
    except WorkbookError as exc:
        raise CatalogSourceError(f"{path}: {exc}") from None
    except OSError as exc:
        raise CatalogSourceError(f"{path}: can't be read ({exc})") from None


def _check_header(columns: Iterable[str], message: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in set(columns)]
    if missing:
        raise CatalogSourceError(message.format(", ".join(missing)))


def _products(
    lines: Iterable[tuple[int, dict[str, str]]], where: Callable[[int, str | None], str]
) -> list[Product]:
    """Every line as a product, in order; ``where(number, column)`` names the place of an error."""
    products: list[Product] = []
    seen: set[str] = set()
    for number, line in lines:
        try:
            product = parse_product(line)
        except ValueError as exc:
            column = exc.column if isinstance(exc, ColumnError) else None
            raise CatalogSourceError(f"{where(number, column)}: {exc}") from None
        if product.sku in seen:
            raise CatalogSourceError(f"{where(number, 'sku')}: sku {product.sku} appears twice")
        seen.add(product.sku)
        products.append(product)
    return products
