import base64
import datetime as dt
import shutil
from decimal import Decimal

from sqlalchemy import inspect, select, text

from kefu.db import seed as seed_module
from kefu.db.engine import get_engine, session_scope
from kefu.db.models import CUSTOMER_PHONE, CustomerRow, OrderRow
from kefu.db.orders import OrderRepository
from kefu.db.records import OrderStatus
from kefu.db.refunds import RefundRepository
from kefu.db.seed import SEED_CSV, read_seed_orders, seed
from kefu.settings import PROJECT_ROOT

SHARED_CSV = PROJECT_ROOT.parent / "shared" / "demo-shop" / "orders.csv"


def dump(url):
    """Every row of every table, as the database holds it."""
    engine = get_engine(url)
    with engine.connect() as connection:
        return {
            table: sorted(tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}")))
            for table in inspect(engine).get_table_names()
            if table != "alembic_version"
        }


def test_seed_file_is_the_shops_data():
    orders = read_seed_orders()
    assert len(orders) == 12
    assert orders[0].order_id == "LT2026110101"
    assert orders[9].amount == Decimal("79.90")
    assert orders[3].delivered_at == dt.datetime(2026, 11, 13, 16, 20)
    if SHARED_CSV.is_file():  # the project ships its own copy; it must not drift from the shop's
        assert SEED_CSV.read_bytes() == SHARED_CSV.read_bytes()


def test_seed_migrates_an_empty_database(tmp_path, cipher):
    url = f"sqlite:///{tmp_path / 'fresh' / 'kefu.db'}"
    report = seed(url, cipher=cipher)
    assert (report.customers_added, report.orders_added) == (6, 12)
    assert OrderRepository(url, cipher).get("LT2026110110").amount == Decimal("79.90")


def test_seed_twice_gives_the_same_rows(db_url, cipher):
    first = seed(db_url, cipher=cipher)
    rows = dump(db_url)
    second = seed(db_url, cipher=cipher)
    assert (first.customers_added, first.orders_added, first.orders_present) == (6, 12, 0)
    assert (second.customers_added, second.orders_added, second.orders_present) == (0, 0, 12)
    assert dump(db_url) == rows


def test_seed_keeps_changes_made_since_unless_reset(shop_url, cipher):
    orders = OrderRepository(shop_url, cipher)
    assert orders.cancel("LT2026110102")
    assert RefundRepository(shop_url).create("LT2026110104", "不想要了", Decimal("59.00"))
    seed(shop_url, cipher=cipher)
    assert orders.get("LT2026110102").status is OrderStatus.CANCELLED

    report = seed(shop_url, cipher=cipher, reset=True)
    assert report.orders_reset == 12
    assert orders.get("LT2026110102").status is OrderStatus.PAID
    assert orders.get("LT2026110104").status is OrderStatus.DELIVERED
    assert RefundRepository(shop_url).latest_for_order("LT2026110104") is None


def test_raw_rows_never_hold_clear_phone_numbers_or_addresses(shop_url, cipher):
    OrderRepository(shop_url, cipher).change_address("LT2026110101", "北京市海淀区中关村大街1号")
    raw = repr(dump(shop_url))
    for order in read_seed_orders():
        assert order.phone not in raw
        assert order.address not in raw
        assert order.address[6:] not in raw  # not even the street part
    assert "中关村" not in raw
    assert "北京市" not in raw


def test_customers_get_their_encrypted_phone(shop_url, cipher):
    with session_scope(shop_url) as session:
        rows = {row.id: row for row in session.scalars(select(CustomerRow))}
        assert cipher.decrypt(rows["u1001"].phone_enc, CUSTOMER_PHONE) == "13800138001"
        assert rows["u1001"].created_at == dt.datetime(2026, 11, 19, 9, 30)  # the first order's time
        assert (
            session.execute(select(OrderRow.user_id).where(OrderRow.order_id == "LT2026110112")).scalar()
            == "u1006"
        )


def test_seed_from_another_file(db_url, cipher, tmp_path):
    copy = tmp_path / "orders.csv"
    shutil.copy(SEED_CSV, copy)
    lines = copy.read_text(encoding="utf-8").splitlines()
    copy.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    report = seed(db_url, path=copy, cipher=cipher)
    assert (report.customers_added, report.orders_added) == (1, 2)


def test_cli_prints_what_it_did(tmp_path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(seed_module, "resolve_url", lambda: url)
    key = "t:" + base64.b64encode(bytes(32)).decode()
    monkeypatch.setattr(seed_module, "default_cipher", lambda: seed_module.FieldCipher.from_spec(key))
    assert seed_module.main([]) == 0
    assert "customers: 6 added" in capsys.readouterr().out
