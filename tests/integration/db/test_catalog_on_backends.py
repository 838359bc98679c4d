"""The product catalog tables on SQLite, MariaDB and PostgreSQL: import, update, live stock, answers."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from kefu.catalog import cli
from kefu.catalog.service import CatalogService
from kefu.catalog.sources import read_catalog
from kefu.db.products import ProductRepository
from kefu.db.seed import SEED_PRODUCTS

pytestmark = pytest.mark.integration


def test_import_update_and_answers(migrated_url, tmp_path):
    assert cli.update(SEED_PRODUCTS, keep_missing=False, url=migrated_url)["created"] == 36
    repository = ProductRepository(migrated_url)
    products = read_catalog(SEED_PRODUCTS)
    assert repository.all() == sorted(products, key=lambda p: p.sku)  # Chinese text, decimals, dates intact

    service = CatalogService(repository)
    assert service.answer("T恤XL有货吗").response == "utter_product_stock_option_out"
    repository.set_stock("P1002", "尺码", "XL", 4)
    assert service.answer("T恤XL有货吗").response == "utter_product_stock_option"

    export = tmp_path / "update.csv"
    text = SEED_PRODUCTS.read_text(encoding="utf-8").replace(
        "P1009,空气炸锅 4L,厨房,349.00", "P1009,空气炸锅 4L,厨房,329.00"
    )
    export.write_text(text, encoding="utf-8")
    counts = cli.update(export, keep_missing=False, url=migrated_url)
    assert counts["updated"] >= 1 and counts["created"] == 0
    assert repository.get("P1009").price == Decimal("329.00")
    assert service.answer("空气炸锅多少钱").values["price"] == "329.00"


def test_renamed_product_is_found_after_the_import(migrated_url):
    repository = ProductRepository(migrated_url)
    products = read_catalog(SEED_PRODUCTS)
    repository.sync(products)
    service = CatalogService(repository)
    assert service.answer("你们卖扫地机器人吗").kind == "unknown_product"
    robot = dataclasses.replace(products[0], sku="P2001", name="扫地机器人 R1")
    repository.sync([*products, robot])
    assert service.answer("扫地机器人续航多久").sku == "P2001"
