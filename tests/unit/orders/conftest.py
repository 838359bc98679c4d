"""An :class:`OrderService` over the demo shop in a SQLite database, on a fixed "today"."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator

import pytest

from kefu.db.engine import dispose_engine
from kefu.db.orders import OrderRepository
from kefu.db.refunds import RefundRepository
from kefu.db.seed import seed
from kefu.orders.service import OrderService
from kefu.security.crypto import FieldCipher

TODAY = dt.date(2026, 11, 20)  # LT2026110104 delivered 7 days ago, LT2026110105 23 days ago
CIPHER = FieldCipher.from_spec("t1:" + base64.b64encode(bytes(range(32))).decode())


@pytest.fixture
def shop_url(tmp_path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    seed(url, cipher=CIPHER)
    yield url
    dispose_engine(url)


@pytest.fixture
def orders(shop_url) -> OrderRepository:
    return OrderRepository(shop_url, CIPHER)


@pytest.fixture
def refunds(shop_url) -> RefundRepository:
    return RefundRepository(shop_url, lambda: dt.datetime(2026, 11, 20, 10, 0))


@pytest.fixture
def service(orders, refunds) -> OrderService:
    return OrderService(orders, refunds, today=lambda: TODAY)
