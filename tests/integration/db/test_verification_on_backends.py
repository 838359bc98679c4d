"""The verification lock-out's database store on SQLite, MariaDB and PostgreSQL."""

import pytest

from kefu.db.verification import SqlAttemptStore
from kefu.security.verification import VerificationUnavailable
from tests.integration.verification_contract import (
    NOW,
    POLICY,
    check_concurrent_failures_all_count,
    check_lockout_survives_new_stores,
    check_success_forgets_the_orders_failures,
)

pytestmark = pytest.mark.integration


def test_counts_are_shared_and_survive_a_restart(migrated_url):
    check_lockout_survives_new_stores(lambda: SqlAttemptStore(migrated_url))


def test_the_right_digits_forget_the_orders_failures(migrated_url):
    check_success_forgets_the_orders_failures(lambda: SqlAttemptStore(migrated_url))


def test_concurrent_failures_all_count(migrated_url):
    check_concurrent_failures_all_count(lambda: SqlAttemptStore(migrated_url))


def test_purge_keeps_locks_and_recent_failures(migrated_url):
    store = SqlAttemptStore(migrated_url)
    store.record_failure("order:old", POLICY, NOW - POLICY.forget_seconds - 10)
    store.record_failure("order:recent", POLICY, NOW - 10)
    for _ in range(3):
        store.record_failure("order:locked", POLICY, NOW - POLICY.forget_seconds - 10)
    assert store.purge(NOW - POLICY.forget_seconds, NOW - POLICY.forget_seconds) == 1
    assert store.get("order:old") is None
    assert store.get("order:recent") is not None and store.get("order:locked") is not None


def test_a_database_without_the_table_is_an_error_not_a_fresh_try(database_url):
    with pytest.raises(VerificationUnavailable):
        SqlAttemptStore(database_url).record_failure("order:LT2026110104", POLICY, NOW)
