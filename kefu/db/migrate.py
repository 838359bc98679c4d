"""Schema migrations run from Python, and only where a process starts.

The servers call :func:`upgrade_at_start` once as they start (``python -m kefu.action_server``,
``python -m kefu.rasa_cli run``); ``make db`` (:mod:`kefu.db.seed`), the compose ``migrate`` job and
the operator commands (catalog import, ``create-admin``, the analytics consumer) call
:func:`upgrade` before their work. Library code (the order and catalog providers) never migrates.

Usage: ``python -m kefu.db.migrate`` upgrades ``DATABASE_URL`` to the latest revision.
"""

from __future__ import annotations

import logging
import sys

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url

from kefu.db.engine import get_engine, resolve_url
from kefu.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for ``url`` (default: ``DATABASE_URL``) that leaves logging alone."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = resolve_url(url)
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """``alembic upgrade head`` on ``url``; a no-op when the schema is current."""
    command.upgrade(alembic_config(url), revision)


def upgrade_at_start(url: str | None, server: str) -> bool:
    """Brings the schema at ``url`` up to date as ``server`` starts; True if it did.

    A database that can't be reached is logged, not fatal: the server starts and answers as in any
    database outage (order questions get the "try again later" reply), and its next start migrates.
    """
    from sqlalchemy.exc import SQLAlchemyError

    try:
        upgrade(url)
    except SQLAlchemyError as exc:
        logger.error(
            "%s: could not bring the database schema up to date (%s); starting anyway, "
            "database-backed answers fail until it is reachable and migrated.",
            server,
            type(exc).__name__,
        )
        return False
    return True


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """``alembic downgrade`` on ``url`` (default: all the way, dropping every table)."""
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str | None = None) -> str | None:
    """The revision the database at ``url`` is at, None before the first migration."""
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def main() -> int:
    url = resolve_url()
    upgrade(url)
    print(f"{make_url(url).render_as_string(hide_password=True)}: at revision {current_revision(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
