"""The settings: every variable documented, malformed values refused by name, production locked down."""

from __future__ import annotations

import base64
import os
import re

import pytest

from kefu import settings as settings_module
from kefu.settings import PROJECT_ROOT, SettingsError, load_settings

PRODUCTION = {
    "KEFU_ENV": "production",
    "CUSTOMER_TOKEN_SECRET": "3f9c1a7e5b2d48c0a6e1f7b39d2c5a804e6b1f3a",
    "KEFU_ENCRYPTION_KEYS": "prod1:" + base64.b64encode(bytes(range(7, 39))).decode(),
    "DASHBOARD_ADMIN_TOKEN": "8b1e4d7a2c9f3e6b0a5d8c1f4e7b2a9d",
    "ACTION_SERVER_SECRET": "c4a81f6e3b9d2057e1a4c8f3b6d90e2a",
    "SDK_API_KEYS": "shop:5e2b8d1a4f7c0e3b6a9d2c5f8e1b4a7d",
}


class RecordingEnviron(dict):
    """os.environ stand-in that remembers every variable the settings asked for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)


@pytest.fixture
def environ(monkeypatch):
    """A clean environment: only what a test sets."""
    fake = RecordingEnviron()
    monkeypatch.setattr(os, "environ", fake)
    return fake


def documented_variables() -> set[str]:
    text = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_every_variable_the_settings_read_is_documented_in_env_example(environ):
    load_settings()
    undocumented = environ.asked - documented_variables()
    assert not undocumented, f"add these to .env.example: {sorted(undocumented)}"


def test_the_defaults_need_nothing_configured(environ):
    settings = load_settings()
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url == "" and settings.rabbitmq_url == ""


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_MESSAGE_CHARS", "lots"),
        ("KB_ANSWER_THRESHOLD", "high"),
        ("SHOP_TODAY", "24/11/2026"),
        ("REDIS_URL", "localhost:6379"),
        ("KEFU_ENV", "staging"),
        ("SDK_API_KEYS", "shop:,other:"),
        ("MAX_BODY_BYTES", "0"),
        ("MAX_METADATA_BYTES", "-1"),
        ("ALLOWED_ORIGINS", "*"),
        ("ALLOWED_ORIGINS", "https://shop.example.com/page"),
        ("ALLOWED_ORIGINS", "shop.example.com"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_variable(environ, name, value):
    environ[name] = value
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_body_limits_and_allowed_origins(environ):
    assert (load_settings().max_body_bytes, load_settings().max_metadata_bytes) == (65536, 8192)
    assert load_settings().allowed_origins == ()
    environ["ALLOWED_ORIGINS"] = "https://shop.example.com/, http://localhost:8080"
    assert load_settings().allowed_origins == ("https://shop.example.com", "http://localhost:8080")


def test_blank_values_mean_the_default(environ):
    environ["MAX_MESSAGE_CHARS"] = "  "
    assert load_settings().max_message_chars == settings_module.Settings().max_message_chars


def test_production_starts_with_real_secrets(environ):
    environ.update(PRODUCTION)
    assert load_settings().production


@pytest.mark.parametrize(
    ("name", "placeholder"),
    [
        ("CUSTOMER_TOKEN_SECRET", settings_module.DEV_TOKEN_SECRET),
        ("CUSTOMER_TOKEN_SECRET", "short"),
        ("KEFU_ENCRYPTION_KEYS", settings_module.DEV_ENCRYPTION_KEY),
        ("DASHBOARD_ADMIN_TOKEN", settings_module.DEV_DASHBOARD_TOKEN),
        ("ACTION_SERVER_SECRET", settings_module.DEV_ACTION_SERVER_SECRET),
        ("ADMIN_BOOTSTRAP_PASSWORD", "admin123"),
    ],
)
def test_production_refuses_placeholder_secrets(environ, name, placeholder):
    environ.update(PRODUCTION)
    environ[name] = placeholder
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_production_refuses_a_missing_secret(environ):
    environ.update({k: v for k, v in PRODUCTION.items() if k != "CUSTOMER_TOKEN_SECRET"})
    with pytest.raises(SettingsError, match="CUSTOMER_TOKEN_SECRET"):
        load_settings()


def test_allowed_origins_are_a_normalised_tuple(environ):
    environ["ALLOWED_ORIGINS"] = " https://Shop.example.com/ ,https://m.shop.example.com"
    assert load_settings().allowed_origins == ("https://shop.example.com", "https://m.shop.example.com")


def test_allowed_origins_default_to_none(environ):
    assert load_settings().allowed_origins == ()


@pytest.mark.parametrize("value", ["*", "shop.example.com", "https://shop.example.com/chat", "ftp://x"])
def test_an_allowed_origin_that_is_not_an_origin_is_refused(environ, value):
    environ["ALLOWED_ORIGINS"] = value
    with pytest.raises(SettingsError, match="ALLOWED_ORIGINS"):
        load_settings()


# Finding 8 of issue 13: production accepted each of these.
DEV_KEY_MATERIAL = settings_module.DEV_ENCRYPTION_KEY.partition(":")[2]


@pytest.mark.parametrize(
    ("name", "weak"),
    [
        ("KEFU_ENCRYPTION_KEYS", f"prod7:{DEV_KEY_MATERIAL}"),
        ("KEFU_ENCRYPTION_KEYS", f"{PRODUCTION['KEFU_ENCRYPTION_KEYS']},old:{DEV_KEY_MATERIAL}"),
        ("KEFU_ENCRYPTION_KEYS", "prod1:" + "A" * 43 + "="),
        ("DASHBOARD_ADMIN_TOKEN", settings_module.DEV_DASHBOARD_TOKEN + "x"),
        ("CUSTOMER_TOKEN_SECRET", settings_module.DEV_TOKEN_SECRET + "-prod"),
        ("CUSTOMER_TOKEN_SECRET", "a" * 32),
        ("CUSTOMER_TOKEN_SECRET", "abab" * 10),
        ("ACTION_SERVER_SECRET", "s" * 40),
        ("ACTION_SERVER_SECRET", "short-secret"),
        ("SDK_API_KEYS", "app:1"),
        ("SDK_API_KEYS", "shop:" + "k" * 30),
        ("SDK_API_KEYS", f"{PRODUCTION['SDK_API_KEYS']},other:0123456789"),
    ],
)
def test_production_refuses_weak_secrets(environ, name, weak):
    environ.update(PRODUCTION)
    environ[name] = weak
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_production_refuses_a_missing_action_server_secret(environ):
    environ.update({k: v for k, v in PRODUCTION.items() if k != "ACTION_SERVER_SECRET"})
    with pytest.raises(SettingsError, match="ACTION_SERVER_SECRET"):
        load_settings()


@pytest.mark.parametrize(
    "name",
    [
        "CHAT_RATE_PER_MINUTE",
        "ADMIN_RATE_PER_MINUTE",
        "LOGIN_RATE_PER_MINUTE",
        "SDK_RATE_PER_MINUTE",
        "SOCKETIO_CONNECT_RATE_PER_MINUTE",
    ],
)
@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_rate_limit_below_one_is_refused(environ, name, value):
    environ[name] = value
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_the_servers_listen_on_this_machine_only_by_default(environ):
    settings = load_settings()
    assert settings.rasa_interface == "127.0.0.1"
    assert settings.action_server_host == "127.0.0.1"


def test_development_mode_announces_itself_on_stderr(environ, capsys):
    from kefu.settings import announce_mode

    announce_mode(load_settings(), "The action server")
    err = capsys.readouterr().err
    assert "DEVELOPMENT MODE" in err and "The action server is starting in development mode" in err


def test_production_mode_starts_without_a_banner(environ, capsys):
    from kefu.settings import announce_mode

    environ.update(PRODUCTION)
    announce_mode(load_settings(), "The action server")
    assert capsys.readouterr().err == ""
