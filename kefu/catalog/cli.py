"""Catalog command line: import a catalog export into the database, ask what the assistant answers.

python -m kefu.catalog.cli update [FILE]          # incremental: changed products rewritten, missing deleted
python -m kefu.catalog.cli update FILE --keep-missing   # a partial export (e.g. stock only) deletes nothing
python -m kefu.catalog.cli ask 手表能游泳吗          # the answer the assistant would give

FILE is a CSV (UTF-8) or .xlsx export with the columns of ``kefu/seed_data/products.csv``
(default: that file); of a workbook, the first sheet is read, its first row naming the columns. The
whole file is checked before anything is written: on an error nothing is imported. The running
assistant sees the change at its next question; no restart.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from kefu.catalog.sources import CatalogSourceError, read_catalog
from kefu.db.seed import SEED_PRODUCTS


def update(path: Path, keep_missing: bool, url: str | None = None) -> dict[str, int]:
    """Imports ``path`` into the catalog tables at ``url``; how many products were created, updated..."""
    from kefu.db.migrate import upgrade
    from kefu.db.products import ProductRepository

    products = read_catalog(path)
    upgrade(url)
    counts = ProductRepository(url).sync(products, delete_missing=not keep_missing)
    return {change.value: count for change, count in counts.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kefu.catalog.cli", description="The shop's product catalog"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("import", "update"):
        command = commands.add_parser(
            name, help="import a CSV or .xlsx export; only what changed is rewritten"
        )
        command.add_argument(
            "file",
            nargs="?",
            type=Path,
            default=SEED_PRODUCTS,
            help=".csv (UTF-8) or .xlsx (first sheet, header in row 1); default: the demo catalog",
        )
        command.add_argument(
            "--keep-missing", action="store_true", help="don't delete products absent from FILE"
        )
    ask = commands.add_parser("ask", help="what the assistant answers to a product question")
    ask.add_argument("question")
    args = parser.parse_args(argv)
    try:
        if args.command == "ask":
            from kefu.catalog.provider import get_catalog_service

            result = get_catalog_service().answer(args.question)
            print(f"[{result.kind}] {result.response} {result.values} source={result.source}")
        else:
            counts = update(args.file, args.keep_missing)
            print(", ".join(f"{count} {change}" for change, count in counts.items()))
    except CatalogSourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
