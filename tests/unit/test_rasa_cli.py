import dataclasses

from kefu.rasa_cli import with_server_options
from kefu.settings import Settings

SETTINGS = Settings(chat_response_timeout_seconds=60)
RUN = ["kefu.rasa_cli", "run", "--model", "m.tar.gz"]


def test_rasa_run_gets_the_configured_response_timeout_and_interface():
    assert with_server_options(RUN, SETTINGS) == [
        *RUN,
        "--response-timeout",
        "60",
        "--interface",
        "127.0.0.1",
    ]


def test_explicit_options_are_kept():
    argv = ["kefu.rasa_cli", "run", "--response-timeout", "5", "--interface", "0.0.0.0", "--cors", "*"]
    listed = dataclasses.replace(SETTINGS, allowed_origins=("https://shop.example.com",))
    assert with_server_options(argv, listed) == argv


def test_no_allowed_origins_means_no_cors_option():
    assert "--cors" not in with_server_options(RUN, SETTINGS)


def test_the_allowed_origins_become_rasas_cors_list():
    origins = ("https://shop.example.com", "https://m.shop.example.com")
    argv = with_server_options(RUN, dataclasses.replace(SETTINGS, allowed_origins=origins))
    assert argv[argv.index("--cors") + 1 :][:2] == list(origins)


def test_other_commands_are_left_alone():
    for argv in (["kefu.rasa_cli", "train"], ["kefu.rasa_cli", "run", "actions"], ["kefu.rasa_cli", "shell"]):
        assert with_server_options(argv, SETTINGS) == argv


def test_several_server_processes_without_redis_stop_the_start(monkeypatch):
    import pytest

    from kefu.rasa_cli import prepare_serving
    from kefu.settings import get_settings

    monkeypatch.setenv("SANIC_WORKERS", "2")
    monkeypatch.setenv("REDIS_URL", "")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit, match="SANIC_WORKERS=2 needs REDIS_URL"):
            prepare_serving()
    finally:
        get_settings.cache_clear()


def test_serving_migrates_the_schema_once(monkeypatch):
    import kefu.db.migrate
    from kefu.rasa_cli import prepare_serving
    from kefu.runtime import patches
    from kefu.settings import get_settings

    calls = []
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("SANIC_WORKERS", "1")
    monkeypatch.setattr(kefu.db.migrate, "upgrade_at_start", lambda url, server: calls.append((url, server)))
    monkeypatch.setattr(patches, "install", lambda: None)
    get_settings.cache_clear()
    try:
        prepare_serving()
        assert calls == [(get_settings().database_url, "The Rasa server")]
    finally:
        get_settings.cache_clear()
