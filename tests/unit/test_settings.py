"""The settings: every variable documented, malformed values refused by name, production locked down."""

from __future__ import annotations

import os
import re

import pytest

from kefu import settings as settings_module
from kefu.settings import PROJECT_ROOT, SettingsError, load_settings

PRODUCTION = {
    "KEFU_ENV": "production",
    "CUSTOMER_TOKEN_SECRET": "c" * 40,
    "KEFU_ENCRYPTION_KEYS": "prod1:" + "A" * 44,
    "DASHBOARD_ADMIN_TOKEN": "d" * 40,
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
