import threading

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from kefu.db.engine import (
    POOL_SIZE,
    dispose_engine,
    engine_options,
    get_engine,
    prepare_url,
    resolve_url,
    session_scope,
)
from kefu.settings import get_settings


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'x.db'}"
    yield url
    dispose_engine(url)


def test_engine_is_built_once_per_url(sqlite_url, tmp_path):
    assert get_engine(sqlite_url) is get_engine(sqlite_url)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    try:
        assert get_engine(other) is not get_engine(sqlite_url)
    finally:
        dispose_engine(other)


def test_dispose_forgets_the_engine(sqlite_url):
    first = get_engine(sqlite_url)
    dispose_engine(sqlite_url)
    assert get_engine(sqlite_url) is not first


def test_sqlite_file_gets_its_folder_and_works_across_threads(sqlite_url, tmp_path):
    engine = get_engine(sqlite_url)
    assert (tmp_path / "nested" / "dir").is_dir()
    results = []

    def query():
        with engine.connect() as connection:
            results.append(connection.execute(text("SELECT 1")).scalar())

    worker = threading.Thread(target=query)
    worker.start()
    worker.join()
    assert results == [1]


def test_sqlite_enforces_foreign_keys(sqlite_url):
    with session_scope(sqlite_url) as session:
        session.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        session.execute(
            text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))")
        )
    with pytest.raises(IntegrityError), session_scope(sqlite_url) as session:
        session.execute(text("INSERT INTO child (id, parent_id) VALUES (1, 42)"))


def test_session_scope_commits_or_rolls_back(sqlite_url):
    with session_scope(sqlite_url) as session:
        session.execute(text("CREATE TABLE t (v INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(RuntimeError), session_scope(sqlite_url) as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
        raise RuntimeError("boom")
    with session_scope(sqlite_url) as session:
        assert session.execute(text("SELECT v FROM t")).scalars().all() == [1]


def test_in_memory_sqlite_shares_one_connection():
    url = "sqlite://"
    try:
        assert engine_options(make_url(url))["poolclass"] is StaticPool
        with session_scope(url) as session:
            session.execute(text("CREATE TABLE t (v INTEGER)"))
        with session_scope(url) as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
    finally:
        dispose_engine(url)


@pytest.mark.parametrize("url", ["mysql+pymysql://root@db/kefu", "postgresql+psycopg2://postgres@db/kefu"])
def test_server_backends_get_a_bounded_pool_and_timeouts(url):
    options = engine_options(make_url(url))
    assert options["pool_pre_ping"] is True
    assert options["pool_size"] == POOL_SIZE
    assert options["pool_recycle"] > 0
    assert options["connect_args"]["connect_timeout"] > 0
    assert options["future"] is True


def test_sqlite_options():
    options = engine_options(make_url("sqlite:///x.db"))
    assert options["connect_args"]["check_same_thread"] is False
    assert "pool_size" not in options


def test_mysql_urls_get_utf8mb4_unless_told_otherwise():
    assert prepare_url("mysql+pymysql://root@db/kefu").query["charset"] == "utf8mb4"
    assert prepare_url("mysql+pymysql://root@db/kefu?charset=utf8").query["charset"] == "utf8"
    assert "charset" not in prepare_url("postgresql://postgres@db/kefu").query


def test_default_url_comes_from_settings():
    assert resolve_url(None) == get_settings().database_url
    assert resolve_url("sqlite://") == "sqlite://"
