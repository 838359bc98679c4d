"""Shared by every integration test: real services on this machine, never stand-ins.

``require_service`` checks that a service accepts connections. When it does not, the test is
skipped with a message saying how to start it, except on CI (``CI=true``), where it fails: CI must
never pass by skipping what it was meant to check.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import pytest

RequireService = Callable[[str, str, int, str], None]


def service_reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def require_service() -> RequireService:
    """``require_service(name, host, port, how_to_start)``: skip (fail on CI) unless the service is up."""

    def require(name: str, host: str, port: int, how_to_start: str) -> None:
        if service_reachable(host, port):
            return
        message = f"{name} is not reachable at {host}:{port}; start it with: {how_to_start}"
        if on_ci():
            pytest.fail(f"{message} (CI=true: a missing service fails the run)", pytrace=False)
        pytest.skip(message)

    return require
