from decimal import Decimal

import pytest

from kefu.catalog.records import Returnable, VariantOption
from kefu.catalog.sources import CatalogSourceError, parse_specs, parse_variants, read_catalog


def test_variants_hold_stock_on_the_dimension_with_numbers():
    options = parse_variants("颜色:白色/黑色;尺码:S(20)/XL(0)")
    assert options[0] == VariantOption("颜色", "白色", None, False)
    assert options[2:] == (VariantOption("尺码", "S", 20), VariantOption("尺码", "XL", 0))
    assert parse_variants("颜色:灰色(预售)") == (VariantOption("颜色", "灰色", None, True),)


def test_specs_keep_the_order_and_colons_inside_values():
    assert parse_specs("蓝牙:5.3;时间:10:00前发货") == (("蓝牙", "5.3"), ("时间", "10:00前发货"))


def test_demo_catalog_reads_completely(demo_products):
    assert len(demo_products) == 36
    blender = next(p for p in demo_products if p.sku == "P1026")
    assert blender.presale and str(blender.presale_ship_date) == "2026-12-15"
    rice = next(p for p in demo_products if p.sku == "P1010")
    assert rice.price == Decimal("79.90") and rice.returnable is Returnable.UNOPENED_ONLY
    assert next(p for p in demo_products if p.sku == "P1036").carrier is None


def test_errors_name_the_line_and_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sku,name,category,price_yuan,variants,specs,returnable_7d\nP1,耳机,数码,abc,,,yes\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogSourceError, match=r"line 2: price_yuan 'abc'"):
        read_catalog(bad)
    header_only = tmp_path / "short.csv"
    header_only.write_text("sku,name\n", encoding="utf-8")
    with pytest.raises(CatalogSourceError, match="missing column"):
        read_catalog(header_only)
