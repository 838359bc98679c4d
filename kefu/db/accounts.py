"""The account repository: admin API users and their bearer tokens (stored as SHA-256 hashes only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from kefu.db.clock import Clock, shop_now
from kefu.db.engine import session_scope
from kefu.db.models import AccountRow, AuthTokenRow


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: str
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class DuplicateAccountError(ValueError):
    """An account with this username exists already."""


class AccountRepository:
    """Accounts and tokens in the database at ``url`` (default: ``DATABASE_URL``)."""

    def __init__(self, url: str | None = None, clock: Clock | None = None):
        self._url = url
        self._clock = clock or shop_now

    def now(self) -> dt.datetime:
        return self._clock()

    def create(self, username: str, password_hash: str, role: str) -> Account:
        now = self._clock()
        row = AccountRow(
            username=username,
            password_hash=password_hash,
            role=role,
            active=True,
            created_at=now,
            updated_at=now,
        )
        try:
            with session_scope(self._url) as session:
                session.add(row)
                session.flush()
                return _to_account(row)
        except IntegrityError as exc:
            raise DuplicateAccountError(username) from exc

    def get(self, username: str) -> Account | None:
        with session_scope(self._url) as session:
            row = session.scalars(select(AccountRow).where(AccountRow.username == username)).first()
            return None if row is None else _to_account(row)

    def password_hash(self, username: str) -> tuple[Account, str] | None:
        """The account and its stored hash, for checking a login."""
        with session_scope(self._url) as session:
            row = session.scalars(select(AccountRow).where(AccountRow.username == username)).first()
            return None if row is None else (_to_account(row), row.password_hash)

    def all(self) -> list[Account]:
        with session_scope(self._url) as session:
            return [_to_account(r) for r in session.scalars(select(AccountRow).order_by(AccountRow.username))]

    def count_active(self, role: str) -> int:
        with session_scope(self._url) as session:
            rows = session.scalars(select(AccountRow.id).where(AccountRow.role == role, AccountRow.active))
            return len(list(rows))

    def update(self, username: str, **values: object) -> Account | None:
        """Sets ``role``, ``active`` or ``password_hash``; None when there is no such account."""
        with session_scope(self._url) as session:
            row = session.scalars(select(AccountRow).where(AccountRow.username == username)).first()
            if row is None:
                return None
            for column, value in values.items():
                setattr(row, column, value)
            row.updated_at = self._clock()
            session.flush()
            return _to_account(row)

    def add_token(self, account_id: int, token_hash: str, expires_at: dt.datetime) -> None:
        with session_scope(self._url) as session:
            session.add(
                AuthTokenRow(
                    token_hash=token_hash,
                    account_id=account_id,
                    created_at=self._clock(),
                    expires_at=expires_at,
                )
            )

    def account_for_token(self, token_hash: str) -> Account | None:
        """The active account of a token that is neither expired nor revoked."""
        statement = (
            select(AccountRow)
            .join(AuthTokenRow, AuthTokenRow.account_id == AccountRow.id)
            .where(
                AuthTokenRow.token_hash == token_hash,
                AuthTokenRow.revoked_at.is_(None),
                AuthTokenRow.expires_at > self._clock(),
                AccountRow.active,
            )
        )
        with session_scope(self._url) as session:
            row = session.scalars(statement).first()
            return None if row is None else _to_account(row)

    def revoke_token(self, token_hash: str) -> bool:
        return self._revoke(AuthTokenRow.token_hash == token_hash) == 1

    def revoke_all(self, account_id: int) -> int:
        """Revokes every live token of an account (role change, deactivation, new password)."""
        return self._revoke(AuthTokenRow.account_id == account_id)

    def _revoke(self, condition: object) -> int:
        statement = (
            update(AuthTokenRow)
            .where(condition, AuthTokenRow.revoked_at.is_(None))
            .values(revoked_at=self._clock())
            .execution_options(synchronize_session=False)
        )
        with session_scope(self._url) as session:
            return session.execute(statement).rowcount


def _to_account(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        role=row.role,
        active=bool(row.active),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
