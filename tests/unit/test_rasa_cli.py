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
