"""Local servers for tests and benchmarks: free ports, and waiting for a server to answer."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.processes import free_port, wait_until_ready


def test_a_free_port_can_be_bound():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_waiting_returns_once_the_server_answers():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/", server, "the test server", timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_server_that_exits_first_is_an_error_naming_it():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(RuntimeError, match="the action server exited with code 3"):
        wait_until_ready(f"http://127.0.0.1:{free_port()}/", process, "the action server", timeout=30)


def test_a_server_that_never_answers_times_out():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(RuntimeError, match=r"a slow server was not ready at .* within 1s"):
            wait_until_ready(f"http://127.0.0.1:{free_port()}/", process, "a slow server", timeout=1)
    finally:
        process.kill()
        process.wait()
