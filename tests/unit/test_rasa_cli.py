from kefu.rasa_cli import with_response_timeout


def test_rasa_run_gets_the_configured_response_timeout():
    argv = ["kefu.rasa_cli", "run", "--model", "m.tar.gz"]
    assert with_response_timeout(argv, 60) == [*argv, "--response-timeout", "60"]


def test_an_explicit_response_timeout_is_kept():
    argv = ["kefu.rasa_cli", "run", "--response-timeout", "5"]
    assert with_response_timeout(argv, 60) == argv


def test_other_commands_are_left_alone():
    for argv in (["kefu.rasa_cli", "train"], ["kefu.rasa_cli", "run", "actions"], ["kefu.rasa_cli", "shell"]):
        assert with_response_timeout(argv, 60) == argv


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
