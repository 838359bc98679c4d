"""SQLite databases in tmp_path, migrated (and seeded with the demo shop when asked), and a test key."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator

import pytest

from kefu.db.engine import dispose_engine
from kefu.db.migrate import upgrade
from kefu.db.seed import seed
from kefu.security.crypto import FieldCipher

TEST_KEYS = "test1:" + base64.b64encode(bytes(range(32))).decode()
NOW = dt.datetime(2026, 11, 24, 15, 30)


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher.from_spec(TEST_KEYS)


@pytest.fixture
def clock():
    return lambda: NOW


@pytest.fixture
def db_url(tmp_path) -> Iterator[str]:
    """An empty, migrated SQLite database."""
    url = f"sqlite:///{tmp_path / 'var' / 'kefu.db'}"
    upgrade(url)
    yield url
    dispose_engine(url)


@pytest.fixture
def shop_url(db_url: str, cipher: FieldCipher) -> str:
    """The database with the demo shop's customers and orders."""
    seed(db_url, cipher=cipher)
    return db_url
