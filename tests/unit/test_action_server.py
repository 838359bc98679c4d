"""The action server's shared-secret check; the running server: tests/e2e/test_action_server.py."""

from __future__ import annotations

import pytest

from kefu.runtime.endpoints import action_server_headers
from kefu.security.action_secret import secret_matches
from kefu.settings import Settings


@pytest.mark.parametrize(
    ("given", "secret", "matches"),
    [
        ("s3cret-value", "s3cret-value", True),
        ("s3cret-valuE", "s3cret-value", False),
        ("s3cret", "s3cret-value", False),
        ("", "s3cret-value", False),
        (None, "s3cret-value", False),
        ("", "", False),  # no secret configured must never mean "anything goes"
        ("口令", "口令", True),
    ],
)
def test_the_secret_must_match_exactly(given, secret, matches):
    assert secret_matches(given, secret) is matches


def test_the_rasa_server_sends_the_configured_secret():
    headers = action_server_headers(Settings(action_server_secret="from-the-settings"))
    assert headers == {"X-Kefu-Action-Secret": "from-the-settings"}


def test_the_start_migrates_the_schema_once_before_serving(monkeypatch):
    import kefu.action_server
    import kefu.db.migrate
    from kefu.settings import get_settings

    calls = []

    class App:
        def run(self, *args, **kwargs):
            calls.append("run")

    monkeypatch.setattr(kefu.db.migrate, "upgrade_at_start", lambda url, server: calls.append((url, server)))
    monkeypatch.setattr(kefu.action_server, "create_app", lambda *args: App())
    kefu.action_server.main(["--actions", "actions", "--port", "5055"])
    assert calls == [(get_settings().database_url, "The action server"), "run"]
