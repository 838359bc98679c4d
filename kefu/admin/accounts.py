"""Accounts and authentication of the admin API: login, opaque bearer tokens, users and roles.

A token is 32 random bytes (URL-safe base64); the database keeps only its SHA-256, with an expiry
(``ADMIN_TOKEN_TTL_MINUTES``) and a revocation time. Changing an account's role, password or status
revokes its tokens.

``python -m kefu.admin.accounts create-admin <username>`` creates an admin, asking for the password
(the way to get the first admin in production, which never bootstraps one).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import logging
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from kefu.admin.passwords import check_strength, hash_password, verify_password
from kefu.admin.permissions import Role
from kefu.db.accounts import Account, AccountRepository, DuplicateAccountError

logger = logging.getLogger(__name__)

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
BOOTSTRAP_ADMIN = "admin"
# Verified against a wrong username, so that a login takes as long whether or not the user exists.
_DUMMY_HASH = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


class AccountError(ValueError):
    """A request about accounts that can't be done; ``status`` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    account: Account


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AccountService:
    """Users, roles and tokens, over an :class:`AccountRepository`."""

    def __init__(self, accounts: AccountRepository | None = None, token_ttl_minutes: float = 480.0) -> None:
        self.accounts = accounts or AccountRepository()
        self.token_ttl = dt.timedelta(minutes=token_ttl_minutes)

    # -- authentication ---------------------------------------------------------------------------
    def login(self, username: object, password: object) -> IssuedToken | None:
        """A new token for valid credentials of an active account, else None."""
        if not isinstance(username, str) or not isinstance(password, str):
            return None
        found = self.accounts.password_hash(username)
        if found is None:
            verify_password(password, _DUMMY_HASH)
            return None
        account, stored = found
        if not verify_password(password, stored) or not account.active:
            return None
        token = secrets.token_urlsafe(32)
        expires_at = self.accounts.now() + self.token_ttl
        self.accounts.add_token(account.id, token_hash(token), expires_at)
        return IssuedToken(token, expires_at, account)

    def authenticate(self, token: object) -> Account | None:
        """The account of a live token (not expired, not revoked, account active), else None."""
        if not isinstance(token, str) or not 20 <= len(token) <= 128:
            return None
        return self.accounts.account_for_token(token_hash(token))

    def logout(self, token: str) -> bool:
        """Revokes the token; True when it was live."""
        return self.accounts.revoke_token(token_hash(token))

    # -- users and roles --------------------------------------------------------------------------
    def create_user(self, username: object, password: object, role: object) -> Account:
        if not isinstance(username, str) or not USERNAME.match(username):
            raise AccountError(
                "用户名须为 3-64 个字母、数字或 _.@-。 The username must be 3-64 letters, digits or _.@-."
            )
        checked_role = _role(role)
        if not isinstance(password, str):
            raise AccountError("缺少密码。 The password is required.")
        try:
            check_strength(password)
            return self.accounts.create(username, hash_password(password), checked_role.value)
        except DuplicateAccountError as exc:
            raise AccountError("用户名已存在。 The username is taken.", 409) from exc
        except ValueError as exc:
            raise AccountError(str(exc)) from exc

    def list_users(self) -> list[Account]:
        return self.accounts.all()

    def update_user(
        self, username: str, role: object = None, active: object = None, password: object = None
    ) -> Account:
        """Changes the role, the status or the password; each change revokes the user's tokens."""
        current = self.accounts.get(username)
        if current is None:
            raise AccountError("用户不存在。 No such user.", 404)
        values: dict[str, object] = {}
        if role is not None:
            values["role"] = _role(role).value
        if active is not None:
            if not isinstance(active, bool):
                raise AccountError("active 必须是 true 或 false。 active must be true or false.")
            values["active"] = active
        if password is not None:
            if not isinstance(password, str):
                raise AccountError("密码必须是字符串。 The password must be a string.")
            try:
                values["password_hash"] = hash_password(password)
            except ValueError as exc:
                raise AccountError(str(exc)) from exc
        if not values:
            raise AccountError("没有要修改的内容。 Nothing to change: give role, active or password.")
        self._keep_an_admin(current, values)
        updated = self.accounts.update(username, **values)
        assert updated is not None
        self.accounts.revoke_all(current.id)
        return updated

    def deactivate(self, username: str) -> Account:
        return self.update_user(username, active=False)

    def _keep_an_admin(self, current: Account, values: dict[str, object]) -> None:
        loses_admin = current.role == Role.ADMIN.value and (
            values.get("role", current.role) != Role.ADMIN.value or values.get("active") is False
        )
        if loses_admin and current.active and self.accounts.count_active(Role.ADMIN.value) <= 1:
            raise AccountError("不能移除最后一个管理员。 The last active admin can't be removed.", 409)

    # -- first admin ------------------------------------------------------------------------------
    def bootstrap_admin(self, password: str = "", production: bool = False) -> str | None:
        """Creates the development admin ``admin`` when no account exists; returns the password.

        With ``password`` empty a one-time random password is generated (the caller prints it once).
        Production never bootstraps: the first admin is made with ``create-admin``.
        """
        if production or self.accounts.all():
            return None
        chosen = password or secrets.token_urlsafe(12)
        try:
            self.accounts.create(BOOTSTRAP_ADMIN, hash_password(chosen), Role.ADMIN.value)
        except DuplicateAccountError:  # another server process (SANIC_WORKERS > 1) made it first
            return None
        return chosen


def save_one_time_password(path: Path, username: str, password: str) -> None:
    """Writes ``username``'s one-time password to ``path``, readable by this system user only (0600).

    A file, not the log: logs are collected, shipped and kept; the file is deleted once read.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an older file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(
            f"Admin API user: {username}\nOne-time password: {password}\n"
            "Log in, change the password (PATCH /admin/api/users/{username}), then delete this file.\n"
        )


def _role(value: object) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        roles = ", ".join(r.value for r in Role)
        raise AccountError(f"未知角色。 Unknown role: use one of {roles}.") from exc


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "create-admin":
        print("usage: python -m kefu.admin.accounts create-admin <username>", file=sys.stderr)
        return 2
    from kefu.db.migrate import upgrade

    upgrade()
    password = getpass.getpass("Password (10+ characters): ")
    try:
        AccountService().create_user(args[1], password, Role.ADMIN.value)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Admin {args[1]} created.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
