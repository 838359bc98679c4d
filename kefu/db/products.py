"""The product repository: the catalog in the ``products`` and ``product_variants`` tables."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from typing import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kefu.catalog.records import Product, Returnable, VariantOption
from kefu.db.clock import Clock, shop_now
from kefu.db.engine import session_scope
from kefu.db.models import ProductRow, ProductVariantRow


class ProductChange(str, Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"


def _columns(product: Product) -> dict[str, object]:
    return {
        "name": product.name,
        "category": product.category,
        "price": product.price,
        "specs": json.dumps([list(pair) for pair in product.specs], ensure_ascii=False),
        "returnable_7d": product.returnable.value,
        "carrier": product.carrier,
        "warranty": product.warranty,
        "presale_ship_date": product.presale_ship_date,
        "description": product.description,
        "aliases": json.dumps(list(product.aliases), ensure_ascii=False),
        "content_hash": product.content_hash,
    }


class ProductRepository:
    """The catalog in the database at ``url`` (default: ``DATABASE_URL``)."""

    def __init__(self, url: str | None = None, clock: Clock | None = None):
        self._url = url
        self._clock = clock or shop_now

    def sync(self, products: Sequence[Product], delete_missing: bool = True) -> dict[ProductChange, int]:
        """Inserts new products and rewrites changed ones (by content hash), in one transaction;
        deletes the products not in ``products`` unless ``delete_missing`` is False."""
        if not products and delete_missing:
            raise ValueError("sync() got no products; refusing to delete the whole catalog")
        counts = dict.fromkeys(ProductChange, 0)
        now = self._clock()
        with session_scope(self._url) as session:
            rows = {row.sku: row for row in session.scalars(select(ProductRow))}
            for product in products:
                row = rows.get(product.sku)
                if row is None:
                    session.add(
                        ProductRow(sku=product.sku, created_at=now, updated_at=now, **_columns(product))
                    )
                    counts[ProductChange.CREATED] += 1
                elif row.content_hash == product.content_hash:
                    counts[ProductChange.UNCHANGED] += 1
                    continue
                else:
                    for column, value in _columns(product).items():
                        setattr(row, column, value)
                    row.updated_at = now
                    session.execute(delete(ProductVariantRow).where(ProductVariantRow.sku == product.sku))
                    counts[ProductChange.UPDATED] += 1
                session.flush()
                session.add_all(_variant_rows(product))
            if delete_missing:
                wanted = {product.sku for product in products}
                for sku, row in rows.items():
                    if sku not in wanted:
                        session.execute(delete(ProductVariantRow).where(ProductVariantRow.sku == sku))
                        session.delete(row)
                        counts[ProductChange.DELETED] += 1
        return counts

    def insert_missing(self, products: Sequence[Product]) -> int:
        """Inserts the products whose SKU is not in the table yet, leaves the others; returns how many."""
        now = self._clock()
        with session_scope(self._url) as session:
            known = set(session.scalars(select(ProductRow.sku)))
            new = [product for product in products if product.sku not in known]
            for product in new:
                session.add(ProductRow(sku=product.sku, created_at=now, updated_at=now, **_columns(product)))
            session.flush()
            for product in new:
                session.add_all(_variant_rows(product))
        return len(new)

    def get(self, sku: str) -> Product | None:
        """The product as the database has it now (stock and price included)."""
        with session_scope(self._url) as session:
            row = session.get(ProductRow, sku)
            return None if row is None else _to_product(row, _variants(session, [sku]).get(sku, []))

    def all(self) -> list[Product]:
        """Every product, by SKU."""
        with session_scope(self._url) as session:
            rows = list(session.scalars(select(ProductRow).order_by(ProductRow.sku)))
            variants = _variants(session, [row.sku for row in rows])
            return [_to_product(row, variants.get(row.sku, [])) for row in rows]

    def version(self) -> str:
        """Changes whenever a product is added, changed or removed: tells caches to reload."""
        with session_scope(self._url) as session:
            count, latest = session.execute(select(func.count(), func.max(ProductRow.updated_at))).one()
        return f"{count}:{latest.isoformat() if isinstance(latest, dt.datetime) else latest}"

    def set_stock(self, sku: str, dimension: str, value: str, stock: int) -> bool:
        """Sets the stock of one variant value (a warehouse update); True if the variant exists."""
        with session_scope(self._url) as session:
            result = session.execute(
                update(ProductVariantRow)
                .where(
                    ProductVariantRow.sku == sku,
                    ProductVariantRow.dimension == dimension,
                    ProductVariantRow.value == value,
                )
                .values(stock=stock, presale=False)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount > 0


def _variant_rows(product: Product) -> list[ProductVariantRow]:
    return [
        ProductVariantRow(
            sku=product.sku,
            position=position,
            dimension=option.dimension,
            value=option.value,
            stock=option.stock,
            presale=option.presale,
        )
        for position, option in enumerate(product.options)
    ]


def _variants(session: Session, skus: list[str]) -> dict[str, list[ProductVariantRow]]:
    found: dict[str, list[ProductVariantRow]] = {}
    if not skus:
        return found
    statement = (
        select(ProductVariantRow)
        .where(ProductVariantRow.sku.in_(skus))
        .order_by(ProductVariantRow.sku, ProductVariantRow.position)
    )
    for row in session.scalars(statement):
        found.setdefault(row.sku, []).append(row)
    return found


def _to_product(row: ProductRow, variants: list[ProductVariantRow]) -> Product:
    return Product(
        sku=row.sku,
        name=row.name,
        category=row.category,
        price=row.price,
        options=tuple(VariantOption(v.dimension, v.value, v.stock, bool(v.presale)) for v in variants),
        specs=tuple((key, value) for key, value in json.loads(row.specs)),
        returnable=Returnable(row.returnable_7d),
        carrier=row.carrier,
        warranty=row.warranty,
        presale_ship_date=row.presale_ship_date,
        description=row.description,
        aliases=tuple(json.loads(row.aliases)),
    )
