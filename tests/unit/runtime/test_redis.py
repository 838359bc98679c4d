"""Redis settings and URLs: what an operator gets wrong, refused with the variable's name."""

from __future__ import annotations

import pytest

from kefu.runtime.redis import redacted, redis_client
from kefu.settings import SettingsError, load_settings


@pytest.fixture
def environment(monkeypatch):
    for name in ("REDIS_URL", "REDIS_KEY_PREFIX", "REDIS_TRACKER_EXPIRY_DAYS", "SESSION_EXPIRATION_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_keep_conversations_in_memory_with_15_minute_sessions(environment):
    settings = load_settings()
    assert settings.redis_url == ""
    assert settings.session_expiration_minutes == 15
    assert settings.redis_key_prefix == "kefu"
    assert settings.redis_tracker_expiry_days == 30


def test_redis_settings_are_read(environment):
    environment.setenv("REDIS_URL", "rediss://:pw@redis.internal:6380/2")
    environment.setenv("REDIS_KEY_PREFIX", "shop2")
    environment.setenv("SESSION_EXPIRATION_MINUTES", "30")
    environment.setenv("REDIS_TRACKER_EXPIRY_DAYS", "7")
    settings = load_settings()
    assert settings.redis_url == "rediss://:pw@redis.internal:6380/2"
    assert (settings.redis_key_prefix, settings.session_expiration_minutes) == ("shop2", 30)
    assert settings.redis_tracker_expiry_days == 7


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("REDIS_URL", "localhost:6379", "REDIS_URL must start with redis://"),
        ("REDIS_URL", "http://redis:6379", "REDIS_URL must start with redis://"),
        ("REDIS_KEY_PREFIX", "kefu:prod", "REDIS_KEY_PREFIX='kefu:prod' must be letters and digits"),
        ("SESSION_EXPIRATION_MINUTES", "0", "SESSION_EXPIRATION_MINUTES=0.0 must be greater than 0"),
        ("SESSION_EXPIRATION_MINUTES", "soon", "SESSION_EXPIRATION_MINUTES='soon' is not a number"),
        ("REDIS_TRACKER_EXPIRY_DAYS", "-1", "REDIS_TRACKER_EXPIRY_DAYS=-1.0 must be greater than 0"),
    ],
)
def test_malformed_values_are_refused_naming_the_variable(environment, name, value, complaint):
    environment.setenv(name, value)
    with pytest.raises(SettingsError, match=complaint.replace("(", r"\(")):
        load_settings()


def test_redacted_hides_the_password_only():
    assert redacted("redis://:s3cret@redis:6379/1") == "redis://:***@redis:6379/1"
    assert redacted("rediss://app:s3cret@redis:6380/0?ssl_cert_reqs=required") == (
        "rediss://app:***@redis:6380/0?ssl_cert_reqs=required"
    )
    assert redacted("redis://redis:6379/0") == "redis://redis:6379/0"


def test_the_url_carries_password_database_and_tls():
    client = redis_client("rediss://:pw@redis.example:6380/3?ssl_ca_certs=/etc/kefu/ca.pem")
    options = client.connection_pool.connection_kwargs
    assert client.connection_pool.connection_class.__name__ == "SSLConnection"
    assert (options["host"], options["port"], options["db"]) == ("redis.example", 6380, 3)
    assert (options["password"], options["ssl_ca_certs"]) == ("pw", "/etc/kefu/ca.pem")
