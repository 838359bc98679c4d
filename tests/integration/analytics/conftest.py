"""RabbitMQ for the analytics tests: the machine's broker, a unique exchange/queue prefix per test
(deleted afterwards), and a TCP proxy in front of it that a test can cut and restore, so the shared
broker itself is never stopped.

Override the broker with ``KEFU_TEST_RABBITMQ_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/%2F``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlparse

import pika
import pytest

from kefu.analytics.topology import Topology

RABBITMQ_URL = os.environ.get("KEFU_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
HOW_TO_START = "start-stop-daemon --start --oknodo --background --exec /usr/sbin/rabbitmq-server"


@pytest.fixture
def rabbitmq_url(require_service) -> str:
    parsed = urlparse(RABBITMQ_URL)
    require_service("RabbitMQ", parsed.hostname or "127.0.0.1", parsed.port or 5672, HOW_TO_START)
    return RABBITMQ_URL


@pytest.fixture
def rabbit(rabbitmq_url) -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
    """A channel on the real broker, for the test's own checks."""
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    try:
        yield connection.channel()
    finally:
        if connection.is_open:
            connection.close()


@pytest.fixture
def topology(rabbitmq_url) -> Iterator[Topology]:
    """Queues of this test only, with short retry delays; deleted afterwards."""
    declared = Topology(f"kefu.test.{uuid.uuid4().hex[:10]}", retry_delays_ms=(200, 400))
    yield declared
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    try:
        declared.delete(connection.channel())
    finally:
        connection.close()


def queue_depth(channel, queue: str) -> int:
    return channel.queue_declare(queue, passive=True).method.message_count


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the broker; :meth:`cut` drops every connection and refuses new ones."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.up = True
        self.accepted = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):  # without it, every confirm waits for a delayed ACK
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.accepted += 1
            with self._lock:
                self._sockets |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self) -> None:
        self.up = False
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._drop(sock)

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.server.close()


@pytest.fixture
def proxy(rabbitmq_url) -> Iterator[TcpProxy]:
    parsed = urlparse(rabbitmq_url)
    running = TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or 5672)
    yield running
    running.close()


def via(proxy: TcpProxy, url: str) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    parsed = urlparse(url)
    credentials = f"{parsed.username}:{parsed.password}@" if parsed.username else ""
    return parsed._replace(netloc=f"{credentials}127.0.0.1:{proxy.port}").geturl()
