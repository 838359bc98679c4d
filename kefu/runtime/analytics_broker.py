"""Rasa's event broker for this project: analytics always, conversation events to RabbitMQ when set.

Rasa hands every new conversation event to its event broker. This broker

- derives the project's analytics events from them (:class:`kefu.analytics.events.TurnAnalyser`) and
  hands those to the durable publisher (:func:`kefu.analytics.publisher.get_publisher`): to RabbitMQ
  with ``RABBITMQ_URL``, else straight to the database, never on the request path;
- forwards the conversation events themselves, when ``RABBITMQ_URL`` is set, to Rasa's own RabbitMQ
  broker (:class:`rasa.core.brokers.pika.PikaEventBroker`, exchange ``rasa-exchange``, durable queue
  ``rasa_events``) with the customer's identity token blanked. That connection is opened in the
  background, so a broker that is down at start-up does not hold the server back; events meanwhile are
  kept in memory (at most :data:`MAX_BUFFERED_EVENTS`).

Configured by :func:`kefu.runtime.endpoints.event_broker` (``type:
kefu.runtime.analytics_broker.AnalyticsEventBroker``); options: ``exchange_name``, ``queues``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any
from urllib.parse import unquote, urlparse

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig

from kefu.analytics.events import TurnAnalyser
from kefu.analytics.publisher import AnalyticsPublisher, get_publisher
from kefu.security.masking import MASK
from kefu.settings import get_settings

logger = logging.getLogger(__name__)

MAX_BUFFERED_EVENTS = 10_000
SECRET_METADATA = ("user_token", "api_key")


def without_secrets(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` with identity tokens in its metadata replaced by a mask (a copy when it has any)."""
    metadata = event.get("metadata")
    if not isinstance(metadata, dict) or not any(key in metadata for key in SECRET_METADATA):
        return event
    return {**event, "metadata": {k: MASK if k in SECRET_METADATA else v for k, v in metadata.items()}}


def pika_broker(rabbitmq_url: str, options: dict[str, Any]) -> PikaEventBroker:
    """Rasa's RabbitMQ broker for ``rabbitmq_url`` (``amqp[s]://user:password@host:port/vhost``)."""
    parsed = urlparse(rabbitmq_url)
    return PikaEventBroker(
        host=rabbitmq_url,
        username=unquote(parsed.username or "guest"),
        password=unquote(parsed.password or "guest"),
        port=parsed.port or (5671 if parsed.scheme == "amqps" else 5672),
        queues=options.get("queues") or ["rasa_events"],
        exchange_name=options.get("exchange_name") or "rasa-exchange",
        connection_attempts=options.get("connection_attempts", 1_000_000),
        retry_delay_in_seconds=options.get("retry_delay_in_seconds", 5),
    )


class AnalyticsEventBroker(EventBroker):
    """Derives analytics from the event stream and forwards the stream to RabbitMQ when configured."""

    def __init__(
        self,
        analyser: TurnAnalyser,
        publisher: AnalyticsPublisher,
        conversations: PikaEventBroker | None = None,
    ) -> None:
        self.analyser = analyser
        self.publisher = publisher
        self.conversations = conversations
        self._waiting: deque[tuple[dict[str, Any], dict[str, str] | None]] = deque(maxlen=MAX_BUFFERED_EVENTS)
        self._connecting: asyncio.Task | None = None

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig | None, event_loop: asyncio.AbstractEventLoop | None = None
    ) -> AnalyticsEventBroker:
        settings = get_settings()
        options = dict(broker_config.kwargs) if broker_config is not None else {}
        conversations = pika_broker(settings.rabbitmq_url, options) if settings.rabbitmq_url else None
        broker = cls(TurnAnalyser(settings.shop_timezone), get_publisher(), conversations)
        if conversations is not None:
            broker._connecting = asyncio.get_running_loop().create_task(broker._connect())
        return broker

    async def _connect(self) -> None:
        assert self.conversations is not None
        try:
            await self.conversations.connect()
        except Exception:
            logger.exception("could not connect Rasa's conversation events to RabbitMQ")
            return
        while self._waiting:
            self.conversations.publish(*self._waiting.popleft())

    def publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        try:
            self.publisher.publish(self.analyser.feed(event))
        except Exception:  # analytics must never break a conversation
            logger.exception("deriving analytics from a %s event failed", event.get("event"))
        if self.conversations is None:
            return
        event = without_secrets(event)
        if self.conversations.is_ready() and not self._waiting:
            self.conversations.publish(event, headers)
        else:
            self._waiting.append((event, headers))

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self.conversations is not None:
            await self.conversations.close()
        await asyncio.to_thread(self.publisher.close)
