"""The analytics consumer: RabbitMQ's analytics queue into the SQL database, each event once.

``python -m kefu.analytics.consumer`` (``RABBITMQ_URL`` and ``DATABASE_URL`` from the environment)
runs until stopped. A message is acknowledged only after its event is committed (or, failing that,
after it is safely in a retry queue or the parking queue), so a crash redelivers rather than loses;
the unique event id makes the redelivered event a no-op.

Failed writes (the database away) go to retry queue ``n`` for the n-th retry, come back after its delay
and, after the last one, go to the parking queue; malformed messages are parked at once.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

from kefu.analytics.events import AnalyticsEvent
from kefu.analytics.publisher import connection_parameters, persistent
from kefu.analytics.store import AnalyticsStore
from kefu.analytics.topology import ATTEMPTS_HEADER, PARKING_KEY, Topology
from kefu.settings import get_settings

logger = logging.getLogger(__name__)

PREFETCH = 50
RECONNECT_SECONDS = 5.0


@dataclass
class ConsumerStats:
    stored: int = 0
    duplicates: int = 0
    retried: int = 0
    parked: int = 0

    @property
    def handled(self) -> int:
        return self.stored + self.duplicates + self.retried + self.parked


class AnalyticsConsumer:
    """Reads ``<prefix>.events`` and stores every event with :class:`AnalyticsStore`."""

    def __init__(self, rabbitmq_url: str, store: AnalyticsStore, topology: Topology) -> None:
        self.rabbitmq_url = rabbitmq_url
        self.store = store
        self.topology = topology
        self.stats = ConsumerStats()
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True

    def run(self, idle_timeout: float | None = None, max_seconds: float | None = None) -> ConsumerStats:
        """Consumes until :meth:`stop`, ``idle_timeout`` seconds without a message, or ``max_seconds``.

        A lost connection is re-opened every :data:`RECONNECT_SECONDS`.
        """
        started = time.monotonic()
        while not self._stopping:
            try:
                if self._consume(idle_timeout, started, max_seconds):
                    break
            except pika.exceptions.AMQPError as error:
                if max_seconds is not None and time.monotonic() - started > max_seconds:
                    break
                logger.warning(
                    "RabbitMQ connection lost (%r); reconnecting in %.0fs", error, RECONNECT_SECONDS
                )
                time.sleep(RECONNECT_SECONDS)
        return self.stats

    def _consume(self, idle_timeout: float | None, started: float, max_seconds: float | None) -> bool:
        connection = pika.BlockingConnection(connection_parameters(self.rabbitmq_url))
        try:
            channel = connection.channel()
            channel.confirm_delivery()  # retries and parked events are confirmed before the ack
            self.topology.declare(channel)
            channel.basic_qos(prefetch_count=PREFETCH)
            idle_since = time.monotonic()
            for method, properties, body in channel.consume(
                self.topology.events_queue, inactivity_timeout=0.5
            ):
                now = time.monotonic()
                if max_seconds is not None and now - started > max_seconds:
                    return True
                if self._stopping:
                    return True
                if method is None:
                    if idle_timeout is not None and now - idle_since > idle_timeout:
                        return True
                    continue
                idle_since = now
                self.handle(channel, method, properties, body)
            return True
        finally:
            if connection.is_open:
                connection.close()

    def handle(self, channel: BlockingChannel, method: Any, properties: Any, body: bytes) -> None:
        """Stores one message's event, or sends it to a retry queue or the parking queue; then acks."""
        attempts = int((properties.headers or {}).get(ATTEMPTS_HEADER, 0) or 0)
        try:
            event = AnalyticsEvent.from_json(body)
        except ValueError as error:
            logger.error("malformed analytics message parked: %s", error)
            self._republish(channel, PARKING_KEY, body, properties.message_id or "", attempts, str(error))
            self.stats.parked += 1
        else:
            try:
                new = self.store.save([event])
            except Exception as error:
                self._retry_or_park(channel, body, event.event_id, attempts + 1, error)
            else:
                if new:
                    self.stats.stored += 1
                else:
                    self.stats.duplicates += 1
        channel.basic_ack(method.delivery_tag)

    def _retry_or_park(
        self, channel: BlockingChannel, body: bytes, event_id: str, failed: int, error: Exception
    ) -> None:
        reason = f"{error.__class__.__name__}: {error}"
        if failed < self.topology.max_attempts:
            logger.warning("storing analytics event %s failed (%s); retry %d", event_id, reason, failed)
            self._republish(channel, self.topology.retry_key(failed), body, event_id, failed, reason)
            self.stats.retried += 1
        else:
            logger.error("analytics event %s parked after %d attempts: %s", event_id, failed, reason)
            self._republish(channel, PARKING_KEY, body, event_id, failed, reason)
            self.stats.parked += 1

    def _republish(
        self, channel: BlockingChannel, key: str, body: bytes, event_id: str, attempts: int, error: str
    ) -> None:
        channel.basic_publish(
            self.topology.exchange,
            key,
            body,
            properties=persistent(event_id, attempts=attempts, error=error),
            mandatory=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle-exit", type=float, default=None, help="exit after this many idle seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    if not settings.rabbitmq_url:
        print(
            "RABBITMQ_URL is not set: without RabbitMQ, events go straight to the database.", file=sys.stderr
        )
        return 2
    from kefu.db.migrate import upgrade

    upgrade(settings.database_url)
    topology = Topology(settings.analytics_queue_prefix, settings.analytics_retry_delays_ms)
    consumer = AnalyticsConsumer(settings.rabbitmq_url, AnalyticsStore(settings.database_url), topology)
    signal.signal(signal.SIGTERM, lambda *_: consumer.stop())
    logger.info("consuming %s into the database", topology.events_queue)
    try:
        stats = consumer.run(idle_timeout=args.idle_exit)
    except KeyboardInterrupt:
        stats = consumer.stats
    logger.info("stopped: %s", stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
