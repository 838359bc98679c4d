"""The WeChat settings as the environment gives them (kefu.settings reads, kefu.wechat.config checks)."""

from __future__ import annotations

import os

import pytest

from kefu.settings import SettingsError, load_settings
from tests.unit.test_settings import PRODUCTION, RecordingEnviron

AES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
MP = {"WECHAT_MP_APP_ID": "wx1", "WECHAT_MP_TOKEN": "tok", "WECHAT_MP_AES_KEY": AES}
WECOM = {"WECOM_CORP_ID": "ww1", "WECOM_SECRET": "s", "WECOM_TOKEN": "t", "WECOM_AES_KEY": AES}


@pytest.fixture
def environ(monkeypatch):
    fake = RecordingEnviron()
    monkeypatch.setattr(os, "environ", fake)
    return fake


def test_no_settings_no_channels(environ):
    wechat = load_settings().wechat
    assert not wechat.mp_enabled and not wechat.wecom_enabled
    assert wechat.passive_reply_seconds == 4.5


def test_configured_channels_are_on(environ):
    environ.update({**MP, **WECOM, "WECHAT_API_BASE": "http://127.0.0.1:9/"})
    wechat = load_settings().wechat
    assert wechat.mp_enabled and wechat.wecom_enabled and wechat.api_base == "http://127.0.0.1:9"


def test_development_runs_the_official_account_without_its_secret(environ):
    environ.update(MP)
    assert load_settings().wechat.mp_enabled


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"WECHAT_MP_TOKEN": "tok"}, "WECHAT_MP_APP_ID"),
        ({**WECOM, "WECOM_SECRET": ""}, "WECOM_SECRET"),
        ({**MP, "WECHAT_MP_AES_KEY": "short"}, "WECHAT_MP_AES_KEY"),
        ({"WECHAT_PASSIVE_REPLY_SECONDS": "5"}, "WECHAT_PASSIVE_REPLY_SECONDS"),
        ({"WECHAT_API_BASE": "api.weixin.qq.com"}, "WECHAT_API_BASE"),
    ],
)
def test_half_configured_or_malformed_is_refused(environ, values, named):
    environ.update(values)
    with pytest.raises(SettingsError, match=named):
        load_settings()


def test_production_refuses_the_official_account_without_its_secret(environ):
    environ.update({**PRODUCTION, **MP})
    with pytest.raises(SettingsError, match="WECHAT_MP_APP_SECRET"):
        load_settings()
    environ.update({"WECHAT_MP_APP_SECRET": "real-secret"})
    assert load_settings().wechat.mp_enabled
