"""The demo shop's customers, orders and catalog, loaded from ``kefu/seed_data/``.

Usage: ``python -m kefu.db.seed [--reset]``. It upgrades the schema, then inserts the customers and
orders that are missing, encrypting phone numbers and addresses, and the products of
``products.csv`` that are missing; running it again changes nothing. ``--reset`` also puts the demo
orders back as the file has them and deletes their refund requests. Catalog updates go through
``python -m kefu.catalog.cli update``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Sequence

from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from kefu.catalog.sources import read_catalog
from kefu.db.engine import resolve_url, session_scope
from kefu.db.migrate import upgrade
from kefu.db.models import CUSTOMER_PHONE, ORDER_ADDRESS, ORDER_PHONE, CustomerRow, OrderRow, RefundRequestRow
from kefu.db.products import ProductRepository
from kefu.db.records import OrderStatus
from kefu.security.crypto import FieldCipher, default_cipher

SEED_CSV = Path(__file__).resolve().parent.parent / "seed_data" / "orders.csv"
SEED_PRODUCTS = SEED_CSV.with_name("products.csv")


@dataclass(frozen=True)
class SeedOrder:
    """One line of the seed file, clear text."""

    order_id: str
    user_id: str
    phone: str
    status: OrderStatus
    product: str
    amount: Decimal
    created_at: dt.datetime
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    carrier: str | None
    tracking_no: str | None
    address: str


@dataclass(frozen=True)
class SeedReport:
    customers_added: int
    customers_present: int
    orders_added: int
    orders_present: int
    orders_reset: int = 0
    products_added: int = 0

    def describe(self) -> str:
        text = (
            f"customers: {self.customers_added} added, {self.customers_present} already present; "
            f"orders: {self.orders_added} added, {self.orders_present} already present"
        )
        text += f", {self.orders_reset} reset" if self.orders_reset else ""
        return text + f"; products: {self.products_added} added"


def read_seed_orders(path: Path = SEED_CSV) -> list[SeedOrder]:
    """The orders of a seed file in the ``orders.csv`` format of the demo shop."""

    def when(value: str) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if value else None

    with path.open(encoding="utf-8", newline="") as handle:
        return [
            SeedOrder(
                order_id=line["order_id"],
                user_id=line["user_id"],
                phone=line["phone"],
                status=OrderStatus(line["status"]),
                product=line["product"],
                amount=Decimal(line["amount_yuan"]),
                created_at=dt.datetime.fromisoformat(line["created_at"]),
                shipped_at=when(line["shipped_at"]),
                delivered_at=when(line["delivered_at"]),
                carrier=line["carrier"] or None,
                tracking_no=line["tracking_no"] or None,
                address=line["address"],
            )
            for line in csv.DictReader(handle)
        ]


def seed(
    url: str | None = None,
    path: Path = SEED_CSV,
    cipher: FieldCipher | None = None,
    reset: bool = False,
    products: Path | None = SEED_PRODUCTS,
) -> SeedReport:
    """Upgrades the schema at ``url`` and inserts the seed files' missing customers, orders and
    products (``products=None``: no catalog)."""
    cipher = cipher or default_cipher()
    orders = read_seed_orders(path)
    upgrade(url)
    first_orders: dict[str, SeedOrder] = {}
    for order in sorted(orders, key=lambda o: o.created_at):
        first_orders.setdefault(order.user_id, order)
    with session_scope(url) as session:
        known_customers = set(session.scalars(select(CustomerRow.id)))
        known_orders = set(session.scalars(select(OrderRow.order_id)))
        for user_id, first in first_orders.items():
            if user_id not in known_customers:
                session.add(
                    CustomerRow(
                        id=user_id,
                        phone_enc=cipher.encrypt(first.phone, CUSTOMER_PHONE),
                        created_at=first.created_at,
                    )
                )
        session.flush()  # customers first: orders refer to them
        reset_count = 0
        for order in orders:
            if order.order_id not in known_orders:
                session.add(OrderRow(order_id=order.order_id, **_order_columns(order, cipher)))
            elif reset:
                session.execute(delete(RefundRequestRow).where(RefundRequestRow.order_id == order.order_id))
                row = session.get(OrderRow, order.order_id)
                for column, value in _order_columns(order, cipher).items():
                    setattr(row, column, value)
                reset_count += 1
    present_orders = sum(order.order_id in known_orders for order in orders)
    products_added = ProductRepository(url).insert_missing(read_catalog(products)) if products else 0
    return SeedReport(
        products_added=products_added,
        customers_added=len(set(first_orders) - known_customers),
        customers_present=len(set(first_orders) & known_customers),
        orders_added=len(orders) - present_orders,
        orders_present=present_orders,
        orders_reset=reset_count,
    )


def _order_columns(order: SeedOrder, cipher: FieldCipher) -> dict[str, object]:
    return {
        "user_id": order.user_id,
        "phone_enc": cipher.encrypt(order.phone, ORDER_PHONE),
        "status": order.status.value,
        "product": order.product,
        "amount": order.amount,
        "created_at": order.created_at,
        "shipped_at": order.shipped_at,
        "delivered_at": order.delivered_at,
        "carrier": order.carrier,
        "tracking_no": order.tracking_no,
        "address_enc": cipher.encrypt(order.address, ORDER_ADDRESS),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu.db.seed", description=__doc__.split("\n")[0])
    parser.add_argument("--reset", action="store_true", help="restore the demo orders and drop their refunds")
    parser.add_argument("--file", type=Path, default=SEED_CSV, help="seed file (default: %(default)s)")
    args = parser.parse_args(argv)
    url = resolve_url()
    report = seed(url, args.file, reset=args.reset)
    print(f"{make_url(url).render_as_string(hide_password=True)}: {report.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
