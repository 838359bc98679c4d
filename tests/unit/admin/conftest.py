from collections.abc import Iterator

import pytest

from kefu.db.engine import dispose_engine
from kefu.db.migrate import upgrade


@pytest.fixture
def db_url(tmp_path) -> Iterator[str]:
    """An empty, migrated SQLite database."""
    url = f"sqlite:///{tmp_path / 'var' / 'kefu.db'}"
    upgrade(url)
    yield url
    dispose_engine(url)
