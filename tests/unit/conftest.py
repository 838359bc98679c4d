"""Fixtures shared by the channel and plumbing tests."""

from __future__ import annotations

import pytest

from kefu.db.engine import dispose_engine
from kefu.db.migrate import upgrade


@pytest.fixture
def db_url(tmp_path):
    """A migrated SQLite database of this test's own."""
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    upgrade(url)
    yield url
    dispose_engine(url)
