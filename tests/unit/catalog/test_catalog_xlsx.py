"""The .xlsx import: real workbooks written with openpyxl, read back like the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from kefu.catalog.cli import main, update
from kefu.catalog.sources import CatalogSourceError, read_catalog
from kefu.catalog.xlsx import cell_text, column_letter
from kefu.db.seed import SEED_PRODUCTS as CATALOG


def write_workbook(path: Path, rows: list[list[object]], title: str = "商品") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("说明").append(["this sheet is not read"])
    workbook.save(path)
    return path


def as_excel_would(text: str) -> object:
    """A CSV cell typed the way Excel holds it after opening the CSV: numbers and dates as values."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    try:
        return dt.datetime.fromisoformat(text) if len(text) == 10 and text[4] == "-" else text
    except ValueError:
        return text


@pytest.fixture
def demo_workbook(tmp_path) -> Path:
    with CATALOG.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    rows = [lines[0]] + [[as_excel_would(cell) if cell else None for cell in line] for line in lines[1:]]
    return write_workbook(tmp_path / "products.xlsx", rows)


def test_demo_catalog_round_trips_through_a_workbook(demo_workbook, demo_products):
    products = read_catalog(demo_workbook)
    assert products == demo_products
    assert [p.content_hash for p in products] == [p.content_hash for p in demo_products]
    assert [p.options for p in products] == [p.options for p in demo_products]


def test_cells_become_the_texts_of_a_csv_export():
    assert cell_text(1299.0) == "1299"
    assert cell_text(79.9) == "79.9"
    assert cell_text(12) == "12"
    assert cell_text(None) == ""
    assert cell_text(dt.datetime(2026, 12, 15)) == "2026-12-15"
    assert cell_text(dt.date(2026, 12, 15)) == "2026-12-15"
    assert [column_letter(i) for i in (0, 3, 25, 26, 27)] == ["A", "D", "Z", "AA", "AB"]


HEADER = ["sku", "name", "category", "price_yuan", "variants", "specs", "returnable_7d"]


def test_numbers_and_dates_typed_in_excel_import_as_in_csv(tmp_path):
    path = write_workbook(
        tmp_path / "typed.xlsx",
        [
            [*HEADER, "presale_ship_date"],
            ["P1", "破壁机", "家电", 1299.0, "颜色:灰色(预售)", "功率:800W", "yes", dt.date(2026, 12, 15)],
            [None] * 8,  # an empty row is skipped, as a blank line in a CSV file
            ["P2", "大米", "食品", 79.9, "规格:5kg(3)", "", "拆封后不支持", None],
        ],
    )
    first, second = read_catalog(path)
    assert str(first.price) == "1299.00" and first.presale_ship_date == dt.date(2026, 12, 15)
    assert str(second.price) == "79.90" and second.options[0].stock == 3


def test_errors_name_the_sheet_row_and_column(tmp_path):
    path = write_workbook(
        tmp_path / "bad.xlsx",
        [HEADER, ["P1", "耳机", "数码", 299, "", "", "yes"], ["P2", "T恤", "服装", "abc", "", "", "yes"]],
    )
    with pytest.raises(
        CatalogSourceError, match=r"sheet '商品', row 3, column D \(price_yuan\): price_yuan 'abc'"
    ):
        read_catalog(path)
    dup = write_workbook(tmp_path / "dup.xlsx", [HEADER] + [["P1", "耳机", "数码", 1, "", "", "yes"]] * 2)
    with pytest.raises(CatalogSourceError, match=r"row 3, column A \(sku\): sku P1 appears twice"):
        read_catalog(dup)


def test_a_sheet_without_the_columns_is_refused(tmp_path):
    path = write_workbook(tmp_path / "short.xlsx", [["sku", "name", "price"], ["P1", "耳机", 299]])
    with pytest.raises(
        CatalogSourceError, match=r"sheet '商品': missing column\(s\) category, price_yuan, variants"
    ):
        read_catalog(path)


def test_broken_encrypted_and_foreign_files_get_an_operator_error(tmp_path):
    renamed = tmp_path / "renamed.xlsx"
    renamed.write_text("sku,name\nP1,耳机\n", encoding="utf-8")
    with pytest.raises(CatalogSourceError, match=r"not an \.xlsx workbook"):
        read_catalog(renamed)
    encrypted = tmp_path / "locked.xlsx"
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(CatalogSourceError, match="password-protected"):
        read_catalog(encrypted)
    truncated = tmp_path / "truncated.xlsx"
    whole = write_workbook(tmp_path / "whole.xlsx", [HEADER]).read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CatalogSourceError, match=r"truncated\.xlsx"):
        read_catalog(truncated)
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(tmp_path / "whole.xlsx") as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(
                item, b"<worksheet><sheetData><row" if "worksheets/sheet1" in item.filename else data
            )
    with pytest.raises(CatalogSourceError, match=r"damaged\.xlsx: is damaged"):
        read_catalog(damaged)
    with pytest.raises(CatalogSourceError, match=r"old \.xls format"):
        read_catalog(tmp_path / "old.xls")


def test_a_workbook_with_an_error_imports_nothing(tmp_path, demo_workbook):
    from openpyxl import load_workbook

    from kefu.db.engine import dispose_engine
    from kefu.db.products import ProductRepository

    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    try:
        assert update(demo_workbook, keep_missing=False, url=url)["created"] == 36
        workbook = load_workbook(demo_workbook)
        sheet = workbook.worksheets[0]
        sheet["D2"] = 1.0  # P1001 gets cheaper ...
        sheet["D20"] = "贵"  # ... but a later row is wrong
        edited = tmp_path / "edited.xlsx"
        workbook.save(edited)
        with pytest.raises(CatalogSourceError, match=r"row 20, column D \(price_yuan\)"):
            update(edited, keep_missing=False, url=url)
        assert str(ProductRepository(url).get("P1001").price) == "299.00"
    finally:
        dispose_engine(url)


def test_cli_answers_a_broken_workbook_with_exit_code_2(tmp_path, capsys, monkeypatch):
    import kefu.db.migrate

    def no_database(*args, **kwargs):
        raise AssertionError("the database was reached with a broken file")

    monkeypatch.setattr(kefu.db.migrate, "upgrade", no_database)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["update", str(broken)]) == 2
    assert "broken.xlsx: is not an .xlsx workbook" in capsys.readouterr().err
