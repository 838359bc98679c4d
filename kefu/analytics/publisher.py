"""Delivering analytics events off the request path: spool first, then a background thread sends.

:meth:`AnalyticsPublisher.publish` only writes the events to the local :class:`~kefu.analytics.spool.Spool`
and wakes the sender thread: chatting never waits on the broker. The thread delivers the oldest
spooled events in batches and removes them once delivered; when delivery fails (RabbitMQ down, a
negative confirm) they stay spooled and the thread tries again with a growing pause (up to
:data:`MAX_BACKOFF_SECONDS`), so nothing is lost across outages or restarts.

Where the events go:

- :class:`RabbitSender` (``RABBITMQ_URL`` set): pika, publisher confirms, persistent messages,
  ``mandatory`` so that an unroutable message counts as a failure;
- :class:`DatabaseSender` (no ``RABBITMQ_URL``, e.g. ``make run``): straight into the database.

A batch may be sent again after a failure in its middle; the consumer stores each event id once.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from typing import Protocol

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from kefu.analytics.events import AnalyticsEvent
from kefu.analytics.spool import Spool
from kefu.analytics.store import AnalyticsStore
from kefu.analytics.topology import ATTEMPTS_HEADER, ERROR_HEADER, EVENT_KEY, Topology
from kefu.settings import Settings, get_settings

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
MIN_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 5.0


class Sender(Protocol):
    def send(self, bodies: list[str]) -> None:
        """Delivers every body or raises."""

    def close(self) -> None: ...


def connection_parameters(url: str) -> pika.URLParameters:
    """pika parameters for ``url`` that fail fast instead of hanging on a dead broker."""
    parameters = pika.URLParameters(url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = CONNECT_TIMEOUT_SECONDS
    parameters.blocked_connection_timeout = 30
    parameters.heartbeat = 30
    return parameters


def persistent(event_id: str, attempts: int | None = None, error: str | None = None) -> pika.BasicProperties:
    """Properties of an analytics message: persistent JSON, the event id as message id."""
    headers: dict[str, object] = {}
    if attempts is not None:
        headers[ATTEMPTS_HEADER] = attempts
        if error:
            headers[ERROR_HEADER] = error[:500]
    return pika.BasicProperties(
        content_type="application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=event_id,
        headers=headers or None,
    )


class RabbitSender:
    """Publishes to the analytics exchange with publisher confirms, one connection kept open."""

    def __init__(self, url: str, topology: Topology) -> None:
        self.url = url
        self.topology = topology
        self._connection: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _open(self) -> BlockingChannel:
        if self._channel is None or not self._channel.is_open:
            self.close()
            self._connection = pika.BlockingConnection(connection_parameters(self.url))
            channel = self._connection.channel()
            channel.confirm_delivery()
            self.topology.declare(channel)
            self._channel = channel
        return self._channel

    def send(self, bodies: list[str]) -> None:
        try:
            channel = self._open()
            for body in bodies:
                event = AnalyticsEvent.from_json(body)
                # In confirm mode this returns once the broker has the message (persisted, for a
                # durable queue), and raises on a nack or when no queue takes it (mandatory).
                channel.basic_publish(
                    self.topology.exchange,
                    EVENT_KEY,
                    body.encode("utf-8"),
                    properties=persistent(event.event_id),
                    mandatory=True,
                )
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # already broken: nothing left to close
                logger.debug("closing a broken RabbitMQ connection failed", exc_info=True)


class DatabaseSender:
    """Writes events straight to the database (no RabbitMQ configured)."""

    def __init__(self, store: AnalyticsStore) -> None:
        self.store = store

    def send(self, bodies: list[str]) -> None:
        self.store.save([AnalyticsEvent.from_json(body) for body in bodies])

    def close(self) -> None:
        pass


class AnalyticsPublisher:
    """Spools events and delivers them with a background thread (started on first publish)."""

    def __init__(self, spool: Spool, sender: Sender, batch_size: int = BATCH_SIZE) -> None:
        self.spool = spool
        self.sender = sender
        self.batch_size = batch_size
        self.delivered = 0
        self.failures = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def publish(self, events: list[AnalyticsEvent]) -> None:
        """Queues ``events`` for delivery; returns at once (a local write, never the network)."""
        if not events:
            return
        self.spool.add(events)
        self.start()
        self._wake.set()

    def start(self) -> None:
        """Starts the sender thread (idempotent); it also sends what a previous run left spooled."""
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="kefu-analytics-publisher", daemon=True
                )
                self._thread.start()
                self._wake.set()

    def pending(self) -> int:
        """Events spooled and not yet delivered."""
        return len(self.spool)

    def flush(self, timeout: float = 10.0) -> bool:
        """Waits until the spool is empty, at most ``timeout`` seconds; True when it is."""
        self.start()
        self._wake.set()
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.pending() == 0

    def close(self, timeout: float = 5.0) -> None:
        """Stops the thread after a last delivery attempt; what is left stays spooled for next time."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.sender.close()

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            if backoff:
                # Failing: wait the whole pause, whatever is published meanwhile.
                self._stop.wait(backoff)
            else:
                self._wake.wait(1.0)
                self._wake.clear()
            try:
                self._deliver_all()
                backoff = 0.0
            except Exception as error:
                self.failures += 1
                backoff = min(max(backoff * 2, MIN_BACKOFF_SECONDS), MAX_BACKOFF_SECONDS)
                logger.warning(
                    "analytics delivery failed (%s); %d event(s) kept in %s, retrying in %.1fs",
                    error.__class__.__name__,
                    self.pending(),
                    self.spool.path,
                    backoff,
                )
        try:  # a last attempt on the way out, without waiting
            self._deliver_all()
        except Exception:
            logger.info("analytics: %d event(s) stay spooled in %s", self.pending(), self.spool.path)

    def _deliver_all(self) -> None:
        while batch := self.spool.peek(self.batch_size):
            self.sender.send([body for _, body in batch])
            self.spool.remove([seq for seq, _ in batch])
            self.delivered += len(batch)


_lock = threading.Lock()
_publisher: AnalyticsPublisher | None = None


def build_publisher(settings: Settings) -> AnalyticsPublisher:
    """The publisher the settings ask for: to RabbitMQ, or to the database without ``RABBITMQ_URL``."""
    sender: Sender
    if settings.rabbitmq_url:
        topology = Topology(settings.analytics_queue_prefix, settings.analytics_retry_delays_ms)
        sender = RabbitSender(settings.rabbitmq_url, topology)
    else:
        sender = DatabaseSender(AnalyticsStore(settings.database_url))
    return AnalyticsPublisher(Spool(settings.analytics_spool_path), sender)


def get_publisher() -> AnalyticsPublisher:
    """The process's publisher, built on first use; it flushes what it can at exit."""
    global _publisher
    with _lock:
        if _publisher is None:
            _publisher = build_publisher(get_settings())
            _publisher.start()
            atexit.register(_publisher.close)
        return _publisher
