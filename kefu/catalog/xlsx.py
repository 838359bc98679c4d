"""Reads the first sheet of an ``.xlsx`` catalog export as the same text rows the CSV reader yields.

Row 1 holds the column names; each cell becomes the string a "CSV UTF-8" export of the sheet would
hold: whole numbers without ``.0`` (1299.0 -> ``1299``), dates as ISO (``2026-12-15``), empty cells
as ``""``.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# An OLE2 compound file: what Excel writes for a password-protected workbook (and for old .xls).
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# What openpyxl raises on a sheet whose XML is damaged inside a valid zip.
_DAMAGED = (zipfile.BadZipFile, KeyError, SyntaxError, OSError)


class WorkbookError(ValueError):
    """The file is not a readable .xlsx workbook; the message says why and what to do."""


@dataclass(frozen=True)
class Sheet:
    """The header and the data rows of a sheet; ``rows`` yields (row number, cell texts by column)."""

    title: str
    header: list[str]
    rows: Iterator[tuple[int, dict[str, str]]]


def cell_text(value: object) -> str:
    """A cell value as the text a CSV export holds for it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def column_letter(index: int) -> str:
    """The spreadsheet name of the 0-based column ``index`` (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _check_container(path: Path) -> None:
    with path.open("rb") as handle:
        start = handle.read(len(_OLE2_MAGIC))
    if start == _OLE2_MAGIC:
        raise WorkbookError(
            "is password-protected (encrypted) or an old .xls workbook: open it in Excel, remove the "
            "password or save it as .xlsx ('Excel Workbook'), and import that file"
        )
    if not zipfile.is_zipfile(path):
        raise WorkbookError(
            "is not an .xlsx workbook (not a zip archive; damaged or renamed?): "
            "save the sheet again as .xlsx or as 'CSV UTF-8'"
        )


@contextmanager
def open_first_sheet(path: Path) -> Iterator[Sheet]:
    """``with open_first_sheet(path) as sheet``: the first sheet, read lazily in read-only mode.

    :class:`WorkbookError` if the file is not a readable workbook, also while its rows are read.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_container(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, ValueError, TypeError, *_DAMAGED) as exc:
        raise _damaged(exc) from None
    try:
        if not workbook.worksheets:
            raise WorkbookError("has no sheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # exporters that write a wrong size must not cut rows off
        lines = sheet.iter_rows(values_only=True)
        try:
            header = [cell_text(value).strip() for value in next(lines, ())]
        except _DAMAGED as exc:
            raise _damaged(exc) from None
        while header and not header[-1]:
            header.pop()
        yield Sheet(title=sheet.title, header=header, rows=_data_rows(header, lines))
    finally:
        workbook.close()


def _data_rows(
    header: list[str], lines: Iterator[tuple[object, ...]]
) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        for number, values in enumerate(lines, start=2):
            texts = [cell_text(value) for value in values]
            if not any(text.strip() for text in texts):
                continue  # an empty row, as a blank line in a CSV file
            yield number, {name: text for name, text in zip(header, texts) if name}
    except _DAMAGED as exc:
        raise _damaged(exc) from None


def _damaged(exc: Exception) -> WorkbookError:
    return WorkbookError(
        f"is damaged: it can't be read as an .xlsx workbook ({type(exc).__name__}: {exc}); "
        "save it again from Excel as .xlsx or as 'CSV UTF-8'"
    )
