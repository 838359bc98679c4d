import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from kefu.db.engine import get_engine
from kefu.db.migrate import current_revision, downgrade, upgrade
from kefu.db.models import Base
from kefu.db.orders import OrderRepository
from kefu.db.seed import seed
from kefu.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

# Every table the models declare; the migrations must create exactly these.
TABLES = set(Base.metadata.tables)


def tables(url):
    return set(inspect(get_engine(url)).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade_round_trip(database_url, cipher):
    upgrade(database_url)
    head = current_revision(database_url)
    assert tables(database_url) == TABLES and head is not None
    upgrade(database_url)  # already current: nothing to do
    assert current_revision(database_url) == head

    downgrade(database_url)
    assert tables(database_url) == set()
    assert current_revision(database_url) is None

    upgrade(database_url)
    assert tables(database_url) == TABLES
    seed(database_url, cipher=cipher)
    assert OrderRepository(database_url, cipher).get("LT2026110101").phone == "13800138001"


def test_models_match_the_migrations(migrated_url):
    with get_engine(migrated_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


@pytest.mark.parametrize("backend", ["mariadb"])
def test_mariadb_tables_are_innodb_utf8mb4(migrated_url):
    with get_engine(migrated_url).connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT table_name, engine, table_collation FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name <> 'alembic_version'"
        ).all()
    assert {(engine, collation) for _, engine, collation in rows} == {("InnoDB", "utf8mb4_bin")}


@pytest.mark.parametrize("backend", ["mariadb", "postgresql"])  # SQLite: one process at a time
def test_concurrent_start_ups_migrate_once(database_url):
    """`make run` and the action server may both upgrade at start-up: a lock serialises them."""
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [sys.executable, "-m", "kefu.db.migrate"]
    runs = [subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stderr=subprocess.PIPE) for _ in range(3)]
    errors = [run.communicate(timeout=120)[1].decode() for run in runs]
    failures = [error for run, error in zip(runs, errors, strict=True) if run.returncode != 0]
    assert failures == []
    assert tables(database_url) == TABLES
