"""Each test gets its own database on SQLite, MariaDB and PostgreSQL: created, used, dropped.

The servers are the ones on this machine (override with ``KEFU_TEST_MARIADB_URL`` and
``KEFU_TEST_POSTGRES_URL``, admin URLs whose user may create databases). A test database is named
``kefu_test_<random>``, so parallel runs and leftovers never collide.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from kefu.db.engine import dispose_engine
from kefu.db.migrate import upgrade
from kefu.db.seed import seed
from kefu.security.crypto import FieldCipher

CIPHER = FieldCipher.from_spec("it1:" + base64.b64encode(bytes(range(100, 132))).decode())


@dataclass(frozen=True)
class Server:
    name: str
    admin_url: str
    default_port: int
    how_to_start: str
    create: str  # SQL creating database {name}
    drop: str


SERVERS = {
    "mariadb": Server(
        "MariaDB",
        os.environ.get("KEFU_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
        3306,
        "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
        "DROP DATABASE IF EXISTS `{name}`",
    ),
    "postgresql": Server(
        "PostgreSQL",
        os.environ.get("KEFU_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"),
        5432,
        "pg_ctlcluster --skip-systemctl-redirect 15 main start",
        "CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0",
        'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
    ),
}
BACKENDS = ["sqlite", *SERVERS]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, require_service) -> Iterator[str]:
    """A new, empty database on ``backend``, dropped after the test."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'kefu.db'}"
        yield url
        dispose_engine(url)
        return
    server = SERVERS[backend]
    admin_url = make_url(server.admin_url)
    require_service(
        server.name, admin_url.host or "127.0.0.1", admin_url.port or server.default_port, server.how_to_start
    )
    name = f"kefu_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool, future=True)
    with admin.connect() as connection:
        connection.execute(text(server.create.format(name=name)))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        dispose_engine(url)
        with admin.connect() as connection:
            connection.execute(text(server.drop.format(name=name)))
        admin.dispose()


@pytest.fixture
def cipher() -> FieldCipher:
    return CIPHER


@pytest.fixture
def migrated_url(database_url) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture
def shop_url(database_url) -> str:
    """The demo shop, seeded (which migrates first)."""
    seed(database_url, cipher=CIPHER)
    return database_url
