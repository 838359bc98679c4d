import json
import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from kefu.db.engine import dispose_engine, get_engine
from kefu.db.handoffs import HandoffRepository
from kefu.db.migrate import current_revision, downgrade, upgrade
from kefu.db.models import Base
from kefu.settings import PROJECT_ROOT

# Every table the models declare; the migrations must create exactly these.
TABLES = set(Base.metadata.tables)


def table_names(url):
    return set(inspect(get_engine(url)).get_table_names()) - {"alembic_version"}


def test_upgrade_creates_every_table_and_is_idempotent(db_url):
    assert table_names(db_url) == TABLES
    head = current_revision(db_url)
    assert head is not None
    upgrade(db_url)
    assert current_revision(db_url) == head


def test_downgrade_and_upgrade_round_trip(db_url):
    downgrade(db_url)
    assert table_names(db_url) == set()
    assert current_revision(db_url) is None
    upgrade(db_url)
    assert table_names(db_url) == TABLES


def test_models_match_the_migrations(db_url):
    with get_engine(db_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_alembic_cli_takes_the_url_from_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli' / 'kefu.db'}"
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    try:
        assert table_names(url) == TABLES
    finally:
        dispose_engine(url)


def test_revision_0004_encrypts_the_transcripts_already_recorded_and_0003_gets_them_back(db_url):
    downgrade(db_url, "0003")
    clear = json.dumps([{"role": "user", "text": "转人工 13800138001"}], ensure_ascii=False)
    with get_engine(db_url).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO handoff_requests (sender_id, reason, transcript, status, created_at, "
                "outside_hours) VALUES ('s1', 'request_human', :clear, 'waiting', '2026-11-24 10:00:00', 0)"
            ),
            {"clear": clear},
        )
    upgrade(db_url)
    with get_engine(db_url).connect() as connection:
        stored = connection.execute(text("SELECT transcript_enc FROM handoff_requests")).scalar_one()
    assert "13800138001" not in stored
    assert HandoffRepository(db_url).list_waiting()[0].transcript == (
        {"role": "user", "text": "转人工 13800138001"},
    )

    downgrade(db_url, "0003")
    with get_engine(db_url).connect() as connection:
        assert connection.execute(text("SELECT transcript FROM handoff_requests")).scalar_one() == clear
    upgrade(db_url)


def test_upgrade_at_start_migrates_a_new_database(tmp_path):
    from kefu.db.migrate import upgrade_at_start

    url = f"sqlite:///{tmp_path / 'new.db'}"
    try:
        assert upgrade_at_start(url, "The test server") is True
        assert table_names(url) == TABLES
    finally:
        dispose_engine(url)


def test_upgrade_at_start_starts_anyway_when_the_database_is_down(monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    import kefu.db.migrate

    def down(*args, **kwargs):
        raise OperationalError("connect", {}, Exception("Connection refused"))

    monkeypatch.setattr(kefu.db.migrate, "upgrade", down)
    assert kefu.db.migrate.upgrade_at_start("mysql+pymysql://u:p@db/kefu", "The test server") is False
    assert "The test server: could not bring the database schema up to date (OperationalError)" in caplog.text


def test_the_providers_only_open_the_engine(monkeypatch):
    import kefu.catalog.provider
    import kefu.db.migrate
    import kefu.orders.provider

    def no_migrations(*args, **kwargs):
        raise AssertionError("a provider ran the migrations; start-up does (upgrade_at_start)")

    monkeypatch.setattr(kefu.db.migrate, "upgrade", no_migrations)
    monkeypatch.setattr(kefu.db.migrate, "command", None)
    monkeypatch.setattr(kefu.orders.provider, "_service", None)
    monkeypatch.setattr(kefu.catalog.provider, "_service", None)
    assert kefu.orders.provider.get_order_service() is kefu.orders.provider.get_order_service()
    assert kefu.catalog.provider.get_catalog_service() is kefu.catalog.provider.get_catalog_service()
