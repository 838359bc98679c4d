import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from kefu.catalog.sources import read_catalog
from kefu.db.products import ProductChange, ProductRepository
from kefu.db.seed import SEED_PRODUCTS, seed


@pytest.fixture
def products():
    return read_catalog(SEED_PRODUCTS)


def ticking():
    times = iter(dt.datetime(2026, 12, 1, 9, 0) + dt.timedelta(minutes=m) for m in range(100))
    return lambda: next(times)


def test_sync_imports_then_rewrites_only_what_changed(db_url, products):
    repository = ProductRepository(db_url, ticking())
    assert repository.sync(products)[ProductChange.CREATED] == 36
    assert repository.all() == sorted(products, key=lambda p: p.sku)
    first_version = repository.version()

    tee = next(p for p in products if p.sku == "P1002")
    cheaper = dataclasses.replace(tee, price=Decimal("79.00"))
    changed = [cheaper if p.sku == "P1002" else p for p in products if p.sku != "P1036"]
    counts = repository.sync(changed)
    assert counts == {
        ProductChange.CREATED: 0,
        ProductChange.UPDATED: 1,
        ProductChange.UNCHANGED: 34,
        ProductChange.DELETED: 1,
    }
    assert repository.get("P1002") == cheaper
    assert repository.get("P1036") is None
    assert repository.version() != first_version


def test_a_partial_export_keeps_the_others(db_url, products):
    repository = ProductRepository(db_url, ticking())
    repository.sync(products)
    counts = repository.sync(products[:2], delete_missing=False)
    assert counts[ProductChange.DELETED] == 0 and len(repository.all()) == 36
    with pytest.raises(ValueError, match="refusing"):
        repository.sync([])


def test_stock_changes_show_at_once(db_url, products):
    repository = ProductRepository(db_url, ticking())
    repository.sync(products)
    assert repository.set_stock("P1002", "尺码", "XL", 7)
    xl = next(o for o in repository.get("P1002").options if o.value == "XL")
    assert xl.stock == 7 and xl.available
    assert not repository.set_stock("P1002", "尺码", "XS", 1)


def test_seed_loads_the_catalog_once(db_url, cipher):
    assert seed(db_url, cipher=cipher).products_added == 36
    repository = ProductRepository(db_url)
    repository.set_stock("P1001", "颜色", "黑色", 3)
    assert seed(db_url, cipher=cipher).products_added == 0
    black = next(o for o in repository.get("P1001").options if o.value == "黑色")
    assert black.stock == 3  # the seed never overwrites the shop's own changes
