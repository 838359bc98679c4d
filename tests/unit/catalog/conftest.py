"""The shipped demo catalog, in memory: the service over it without a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.catalog.records import Product
from kefu.catalog.service import CatalogService
from kefu.catalog.sources import read_catalog

CATALOG = Path(__file__).resolve().parents[3] / "kefu" / "seed_data" / "products.csv"


class InMemoryCatalog:
    """A catalog held in a dict; ``version`` changes on every change, like the repository's."""

    def __init__(self, products: list[Product]) -> None:
        self.products = {product.sku: product for product in products}
        self.changes = 0

    def all(self) -> list[Product]:
        return list(self.products.values())

    def get(self, sku: str) -> Product | None:
        return self.products.get(sku)

    def version(self) -> str:
        return str(self.changes)

    def put(self, product: Product) -> None:
        self.products[product.sku] = product
        self.changes += 1


@pytest.fixture(scope="session")
def demo_products() -> list[Product]:
    return read_catalog(CATALOG)


@pytest.fixture
def catalog(demo_products) -> InMemoryCatalog:
    return InMemoryCatalog(demo_products)


@pytest.fixture
def service(catalog) -> CatalogService:
    return CatalogService(catalog)
