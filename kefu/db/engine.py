"""Engines and sessions, built lazily once per database URL and process."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

# Connections kept open per process: at least the action server's worker threads (asyncio's default
# executor: cores + 4), or each busy moment opens and closes overflow connections (seen in py-spy).
POOL_SIZE = 10
MAX_OVERFLOW = 10
POOL_TIMEOUT_SECONDS = 10
POOL_RECYCLE_SECONDS = 1800  # below MySQL's and most proxies' idle timeouts
CONNECT_TIMEOUT_SECONDS = 5

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_sessionmakers: dict[str, sessionmaker] = {}


def resolve_url(url: str | None = None) -> str:
    """``url``, or the settings' ``database_url`` when None."""
    if url is not None:
        return url
    from kefu.settings import get_settings

    return get_settings().database_url


def engine_options(url: URL) -> dict[str, Any]:
    """``create_engine`` keyword arguments suited to the URL's backend."""
    options: dict[str, Any] = {
        "future": True,
        "pool_pre_ping": True,
    }
    backend = url.get_backend_name()
    if backend == "sqlite":
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if url.database in (None, "", ":memory:"):
            options["poolclass"] = StaticPool  # one shared connection, or each would see its own database
        return options
    options.update(
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        pool_recycle=POOL_RECYCLE_SECONDS,
    )
    if "connect_timeout" not in url.query:
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    return options


def prepare_url(raw: str) -> URL:
    """The URL to connect with: utf8mb4 for MySQL/MariaDB; a SQLite file's folder created."""
    url = make_url(raw)
    backend = url.get_backend_name()
    if backend in ("mysql", "mariadb") and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    if backend == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    return url


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def get_engine(url: str | None = None) -> Engine:
    """The process's engine for ``url`` (default: ``DATABASE_URL``), created on first use."""
    key = resolve_url(url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            prepared = prepare_url(key)
            engine = create_engine(prepared, **engine_options(prepared))
            if prepared.get_backend_name() == "sqlite":
                event.listen(engine, "connect", _sqlite_foreign_keys)
            _engines[key] = engine
        return engine


def get_sessionmaker(url: str | None = None) -> sessionmaker:
    """The process's session factory for ``url``."""
    key = resolve_url(url)
    engine = get_engine(key)
    with _lock:
        factory = _sessionmakers.get(key)
        if factory is None:
            factory = sessionmaker(bind=engine, future=True, expire_on_commit=False)
            _sessionmakers[key] = factory
        return factory


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back if it raises."""
    with get_sessionmaker(url)() as session, session.begin():
        yield session


def dispose_engine(url: str | None = None) -> None:
    """Closes the pooled connections of ``url``'s engine and forgets it (tests, shutdown)."""
    key = resolve_url(url)
    with _lock:
        engine = _engines.pop(key, None)
        _sessionmakers.pop(key, None)
    if engine is not None:
        engine.dispose()
