"""The SQL backend of the phone-verification attempt records (``kefu.security.verification``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from kefu.db.engine import session_scope
from kefu.db.models import VerificationAttemptRow
from kefu.security.attempts import Attempts, LockoutPolicy, VerificationUnavailable, after_failure

T = TypeVar("T")
PURGE_EVERY = 200  # failures recorded between two purges of records that can no longer matter


def _unavailable_on_failure(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(*args: object, **kwargs: object) -> T:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise VerificationUnavailable(f"verification records unavailable: {type(exc).__name__}") from exc

    return wrapper


def _attempts(row: VerificationAttemptRow) -> Attempts:
    return Attempts(row.subject, row.failures, row.locks, row.locked_until, row.last_failure)


class SqlAttemptStore:
    """Records in the database at ``url`` (default: ``DATABASE_URL``), one row per key.

    A failure locks the key's row, reads it and writes it in one transaction, so that two servers
    counting the same key at once both count.
    """

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._writes = 0

    @_unavailable_on_failure
    def get(self, key: str) -> Attempts | None:
        with session_scope(self._url) as session:
            row = session.get(VerificationAttemptRow, key)
            return None if row is None else _attempts(row)

    @_unavailable_on_failure
    def record_failure(self, key: str, policy: LockoutPolicy, now: int) -> Attempts:
        self._writes += 1
        if self._writes % PURGE_EVERY == 0:
            self.purge(now - policy.forget_seconds, now)
        self._ensure_row(key)
        with session_scope(self._url) as session:
            # A write first: it locks the row (on SQLite the database) before it is read, so that
            # failures counted by two servers at once both count.
            session.execute(
                update(VerificationAttemptRow)
                .where(VerificationAttemptRow.subject == key)
                .values(failures=VerificationAttemptRow.failures)
            )
            row = session.scalars(
                select(VerificationAttemptRow)
                .where(VerificationAttemptRow.subject == key)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one()
            state = after_failure(_attempts(row), policy, now)
            row.failures, row.locks = state.failures, state.locks
            row.locked_until, row.last_failure = state.locked_until, state.last_failure
            return state

    def _ensure_row(self, key: str) -> None:
        """Inserts the key's empty record unless it exists (no gap locks in the counting transaction)."""
        try:
            with session_scope(self._url) as session:
                if session.get(VerificationAttemptRow, key) is None:
                    session.add(
                        VerificationAttemptRow(
                            subject=key, failures=0, locks=0, locked_until=0, last_failure=0
                        )
                    )
        except IntegrityError:
            pass  # another server inserted it at the same moment

    @_unavailable_on_failure
    def forget_failures(self, key: str) -> None:
        with session_scope(self._url) as session:
            session.execute(
                update(VerificationAttemptRow).where(VerificationAttemptRow.subject == key).values(failures=0)
            )

    @_unavailable_on_failure
    def clear(self, key: str) -> bool:
        with session_scope(self._url) as session:
            result = session.execute(
                delete(VerificationAttemptRow).where(VerificationAttemptRow.subject == key)
            )
            return bool(result.rowcount)

    @_unavailable_on_failure
    def locked(self, now: int) -> list[Attempts]:
        statement = select(VerificationAttemptRow).where(VerificationAttemptRow.locked_until > now)
        with session_scope(self._url) as session:
            return [_attempts(row) for row in session.scalars(statement)]

    @_unavailable_on_failure
    def purge(self, failed_before: int, now: int) -> int:
        """Deletes the records with no failure since ``failed_before`` and no lock left; how many."""
        statement = delete(VerificationAttemptRow).where(
            VerificationAttemptRow.last_failure < failed_before, VerificationAttemptRow.locked_until <= now
        )
        with session_scope(self._url) as session:
            return int(session.execute(statement).rowcount or 0)
