"""The server refuses to start on a Redis it cannot use, saying which variable to fix."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import MODEL, ROOT
from tests.processes import free_port

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("redis_url", "complaint"),
    [
        (f"redis://:secret@127.0.0.1:{free_port()}/0", "is unreachable"),
        ("127.0.0.1:6379", "REDIS_URL must start with redis://"),
    ],
)
def test_rasa_does_not_start_on_an_unusable_redis(redis_url, complaint):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "REDIS_URL": redis_url}
    command = [
        sys.executable,
        "-m",
        "kefu.rasa_cli",
        "run",
        "--model",
        str(MODEL),
        "--port",
        str(free_port()),
    ]
    result = subprocess.run(
        [*command, "--endpoints", "endpoints.yml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Configuration error: " in result.stderr and "REDIS_URL" in result.stderr, result.stderr
    assert complaint in result.stderr, result.stderr
    assert "secret" not in result.stderr  # the password is never printed
