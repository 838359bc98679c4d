import logging

from kefu.security.masking import install_log_masking


def test_log_records_are_masked_whatever_the_logger_or_handler(caplog):
    install_log_masking()
    install_log_masking()  # twice is harmless
    with caplog.at_level(logging.INFO):
        logging.getLogger("rasa.core.processor").info("user %s said: call me on %s", "c-1", "13800138001")
        logging.getLogger("x").info("Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123")
    text = caplog.text
    assert "13800138001" not in text and "138****8001" in text
    assert "abcdefghijklmnopqrstuvwxyz0123" not in text
    assert "c-1" in text
