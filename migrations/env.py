"""Alembic environment. The database URL comes from ``kefu.db.migrate`` (``config.attributes``) or
from ``kefu.settings`` (``DATABASE_URL``), never from alembic.ini."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from kefu.db.engine import prepare_url
from kefu.db.models import Base

# Serialises concurrent `upgrade` runs (e.g. `make run` and the action server starting together).
LOCK_NAME = "kefu_migrations"
LOCK_KEY = 0x6B656675  # "kefu", for PostgreSQL's integer advisory locks
LOCK_TIMEOUT_SECONDS = 300

config = context.config
if config.config_file_name is not None:  # the alembic CLI; kefu.db.migrate leaves logging alone
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return url
    from kefu.settings import get_settings

    return get_settings().database_url


def _lock(connection: Connection) -> None:
    backend = connection.dialect.name
    if backend == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
    elif backend in ("mysql", "mariadb"):
        got = connection.execute(
            text("SELECT GET_LOCK(:name, :timeout)"), {"name": LOCK_NAME, "timeout": LOCK_TIMEOUT_SECONDS}
        ).scalar()
        if got != 1:
            raise RuntimeError(f"another migration held the {LOCK_NAME!r} lock for {LOCK_TIMEOUT_SECONDS}s")
    connection.commit()


def _unlock(connection: Connection) -> None:
    backend = connection.dialect.name
    if backend == "postgresql":
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
    elif backend in ("mysql", "mariadb"):
        connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": LOCK_NAME})
    connection.commit()


def run_migrations_offline() -> None:
    context.configure(
        url=prepare_url(database_url()),
        target_metadata=Base.metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(prepare_url(database_url()), poolclass=NullPool, future=True)
    try:
        with engine.connect() as connection:
            _lock(connection)
            try:
                context.configure(
                    connection=connection,
                    target_metadata=Base.metadata,
                    render_as_batch=connection.dialect.name == "sqlite",
                )
                with context.begin_transaction():
                    context.run_migrations()
            finally:
                _unlock(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
