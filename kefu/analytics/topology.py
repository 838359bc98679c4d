"""The RabbitMQ exchange and queues of the analytics events, declared by publisher and consumer alike.

One durable direct exchange ``<prefix>`` routes:

- ``event`` to ``<prefix>.events``, the queue the consumer reads;
- ``retry.<n>`` to ``<prefix>.retry.<n>``, one delay queue per attempt. These queues have no consumer:
  a message waits there for the queue's TTL (``ANALYTICS_RETRY_DELAYS_MS``), then RabbitMQ dead-letters
  it back to the exchange with routing key ``event``. This is the dead-letter-exchange-with-TTL
  pattern; it needs no plugin (the delayed-message plugin is not installed on this project's brokers),
  and one queue per delay avoids a short delay waiting behind a long one;
- ``parking`` to ``<prefix>.parking``, where events that failed every attempt (or are malformed) wait
  for a human: inspect them, fix the cause, shovel them back to the exchange with key ``event``.

Every queue is durable, every message persistent (delivery mode 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EVENT_KEY = "event"
PARKING_KEY = "parking"
ATTEMPTS_HEADER = "x-kefu-attempts"
ERROR_HEADER = "x-kefu-error"


@dataclass(frozen=True)
class Topology:
    """Names and retry delays of one deployment's analytics queues."""

    prefix: str = "kefu.analytics"
    retry_delays_ms: tuple[int, ...] = (5000, 30000, 300000)

    @property
    def exchange(self) -> str:
        return self.prefix

    @property
    def events_queue(self) -> str:
        return f"{self.prefix}.events"

    @property
    def parking_queue(self) -> str:
        return f"{self.prefix}.parking"

    @property
    def max_attempts(self) -> int:
        """Deliveries to the consumer before an event is parked: the first one and one per delay."""
        return 1 + len(self.retry_delays_ms)

    def retry_key(self, attempt: int) -> str:
        return f"retry.{attempt}"

    def retry_queue(self, attempt: int) -> str:
        return f"{self.prefix}.retry.{attempt}"

    def queues(self) -> list[str]:
        retries = [self.retry_queue(n) for n in range(1, len(self.retry_delays_ms) + 1)]
        return [self.events_queue, *retries, self.parking_queue]

    def declare(self, channel: Any) -> None:
        """Declares the exchange, queues and bindings on a pika channel (idempotent)."""
        channel.exchange_declare(self.exchange, exchange_type="direct", durable=True)
        channel.queue_declare(self.events_queue, durable=True)
        channel.queue_bind(self.events_queue, self.exchange, routing_key=EVENT_KEY)
        channel.queue_declare(self.parking_queue, durable=True)
        channel.queue_bind(self.parking_queue, self.exchange, routing_key=PARKING_KEY)
        for attempt, delay in enumerate(self.retry_delays_ms, start=1):
            channel.queue_declare(
                self.retry_queue(attempt),
                durable=True,
                arguments={
                    "x-message-ttl": delay,
                    "x-dead-letter-exchange": self.exchange,
                    "x-dead-letter-routing-key": EVENT_KEY,
                },
            )
            channel.queue_bind(self.retry_queue(attempt), self.exchange, routing_key=self.retry_key(attempt))

    def delete(self, channel: Any) -> None:
        """Removes the queues and the exchange (tests, decommissioning)."""
        for queue in self.queues():
            channel.queue_delete(queue)
        channel.exchange_delete(self.exchange)
