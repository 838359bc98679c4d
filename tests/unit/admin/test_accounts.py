"""Accounts on a real (SQLite) database: passwords, tokens that expire and are revoked, the first admin."""

import datetime as dt

import pytest

from kefu.admin.accounts import AccountError, AccountService
from kefu.admin.passwords import hash_password, verify_password
from kefu.admin.permissions import Permission, Role, allowed
from kefu.db.accounts import AccountRepository

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 25, 10, 0)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(db_url, clock) -> AccountService:
    return AccountService(AccountRepository(db_url, clock=clock), token_ttl_minutes=60)


def test_passwords_are_salted_scrypt_and_verified():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$") and first != second and PASSWORD not in first
    assert verify_password(PASSWORD, first) and not verify_password(PASSWORD + "x", first)
    assert not verify_password(PASSWORD, "garbage") and not verify_password(PASSWORD, "")


def test_short_passwords_are_refused(service):
    with pytest.raises(AccountError, match="10"):
        service.create_user("agent1", "short", "agent")


def test_login_gives_a_token_that_works_until_it_expires(service, clock):
    service.create_user("agent1", PASSWORD, "agent")
    assert service.login("agent1", "wrong password!") is None
    assert service.login("nobody", PASSWORD) is None
    issued = service.login("agent1", PASSWORD)
    assert issued is not None and issued.expires_at == clock.now + dt.timedelta(minutes=60)
    assert service.authenticate(issued.token).username == "agent1"
    clock.now += dt.timedelta(minutes=59)
    assert service.authenticate(issued.token) is not None
    clock.now += dt.timedelta(minutes=1)
    assert service.authenticate(issued.token) is None


def test_the_database_keeps_no_token_in_the_clear(service, db_url):
    from sqlalchemy import select

    from kefu.db.engine import session_scope
    from kefu.db.models import AuthTokenRow

    service.create_user("agent1", PASSWORD, "agent")
    issued = service.login("agent1", PASSWORD)
    with session_scope(db_url) as session:
        stored = list(session.scalars(select(AuthTokenRow.token_hash)))
    assert stored and issued.token not in stored


def test_logout_revokes_only_that_token(service):
    service.create_user("agent1", PASSWORD, "agent")
    first, second = service.login("agent1", PASSWORD), service.login("agent1", PASSWORD)
    assert service.logout(first.token)
    assert service.authenticate(first.token) is None
    assert service.authenticate(second.token) is not None
    assert not service.logout(first.token)


def test_role_password_or_status_changes_revoke_every_token(service):
    service.create_user("boss", PASSWORD, "admin")
    service.create_user("agent1", PASSWORD, "agent")
    password = PASSWORD
    for change in ({"role": "customer"}, {"password": PASSWORD + "!"}, {"active": False}):
        issued = service.login("agent1", password)
        assert issued is not None, change
        service.update_user("agent1", **change)
        assert service.authenticate(issued.token) is None, change
        password = change.get("password", password)
    assert service.login("agent1", PASSWORD + "!") is None  # deactivated


def test_the_last_admin_stays(service):
    service.create_user("boss", PASSWORD, "admin")
    with pytest.raises(AccountError) as error:
        service.deactivate("boss")
    assert error.value.status == 409
    service.create_user("boss2", PASSWORD, "admin")
    assert service.update_user("boss", role="agent").role == "agent"


def test_duplicate_and_unknown(service):
    service.create_user("agent1", PASSWORD, "agent")
    with pytest.raises(AccountError) as duplicate:
        service.create_user("agent1", PASSWORD, "agent")
    assert duplicate.value.status == 409
    with pytest.raises(AccountError):
        service.create_user("agent2", PASSWORD, "superuser")
    with pytest.raises(AccountError) as missing:
        service.update_user("ghost", role="agent")
    assert missing.value.status == 404


def test_development_bootstraps_one_admin_production_none(service, db_url, clock):
    production = AccountService(AccountRepository(db_url, clock=clock))
    assert production.bootstrap_admin("given-password-123", production=True) is None
    password = service.bootstrap_admin("")
    assert password and service.login("admin", password) is not None
    assert service.bootstrap_admin("") is None  # once only


def test_a_second_server_process_losing_the_bootstrap_race_gets_none(db_url, clock):
    """Two workers (SANIC_WORKERS=2) both see no account, and both try to create the admin."""
    repository = AccountRepository(db_url, clock=clock)
    first, second = AccountService(repository), AccountService(repository)
    all_accounts = repository.all
    repository.all = lambda: []  # both saw an empty table before either wrote
    try:
        winner = first.bootstrap_admin("")
        assert second.bootstrap_admin("") is None
    finally:
        repository.all = all_accounts
    assert winner and first.login("admin", winner) is not None


def test_deny_by_default():
    assert allowed(Role.ADMIN, Permission.DELETE_KNOWLEDGE)
    assert allowed("customer", Permission.SEND_MESSAGE) and allowed("customer", Permission.VIEW_FAQ)
    assert allowed("agent", Permission.HANDOFF_CLAIM)
    assert not allowed("customer", Permission.DELETE_KNOWLEDGE)
    assert not allowed("superuser", Permission.VIEW_FAQ)
    assert not allowed(None, Permission.VIEW_FAQ)
