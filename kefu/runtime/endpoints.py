"""The Rasa server's endpoints, from ``endpoints.yml`` and the settings.

``endpoints.yml`` keeps what is static (``action_endpoint: url: ${ACTION_ENDPOINT_URL}``; its calls
get the action server's shared secret from the settings as a header); the
sections that depend on which services are configured are built here, one function per section,
from :class:`~kefu.settings.Settings`. ``kefu.runtime.patches`` installs :func:`read_endpoints` in place of
Rasa's reader for the commands that serve conversations (``run``, ``shell``), so the server runs
with exactly what the environment says and secrets never go into a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kefu.security.action_secret import SECRET_HEADER
from kefu.settings import Settings, get_settings

if TYPE_CHECKING:
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

STORES = "kefu.runtime.conversation_stores"


def tracker_store(settings: Settings) -> dict[str, Any]:
    """Conversations in Redis when ``REDIS_URL`` is set, else in this process's memory."""
    if settings.redis_url:
        return {"type": f"{STORES}.RedisConversationStore"}
    return {"type": f"{STORES}.MemoryTrackerStore"}


def lock_store(settings: Settings) -> dict[str, Any] | None:
    """Conversation locks in Redis when ``REDIS_URL`` is set; None: Rasa's in-memory lock store."""
    if settings.redis_url:
        return {"type": f"{STORES}.RedisTicketLockStore"}
    return None


def event_broker(settings: Settings) -> dict[str, Any] | None:
    """The project's broker, always: it derives analytics (to RabbitMQ with ``RABBITMQ_URL``, else to the
    database) and, with ``RABBITMQ_URL``, forwards conversation events to Rasa's RabbitMQ broker
    (exchange ``rasa-exchange``, durable queue ``rasa_events``). See
    :mod:`kefu.runtime.analytics_broker`; the URL is read from the settings, never written here."""
    return {
        "type": "kefu.runtime.analytics_broker.AnalyticsEventBroker",
        "exchange_name": "rasa-exchange",
        "queues": ["rasa_events"],
    }


def action_server_headers(settings: Settings) -> dict[str, str]:
    """The headers of every call to the action server: the shared secret it checks."""
    return {SECRET_HEADER: settings.action_server_secret}


def read_endpoints(
    endpoints_file: str | None, settings: Settings | None = None, rasa_reader: Any = None
) -> AvailableEndpoints:
    """``endpoints_file`` as Rasa reads it (with ``rasa_reader``, Rasa's own reader, once
    :func:`kefu.runtime.patches.read_endpoints_from_settings` has replaced it), with the generated
    sections and the guarded action endpoint."""
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    from kefu.runtime.action_endpoint import ActionServerEndpoint

    settings = settings or get_settings()
    endpoints = (rasa_reader or AvailableEndpoints.read_endpoints)(endpoints_file)
    if endpoints.action is not None:
        endpoints.action = ActionServerEndpoint.wrap(endpoints.action)
        endpoints.action.headers = {**endpoints.action.headers, **action_server_headers(settings)}
    for name, section in (
        ("tracker_store", tracker_store(settings)),
        ("lock_store", lock_store(settings)),
        ("event_broker", event_broker(settings)),
    ):
        if getattr(endpoints, name) is not None:
            raise ValueError(
                f"{endpoints_file} configures {name}, which is set from the environment "
                "(see .env.example); remove it from the file"
            )
        setattr(endpoints, name, _config(EndpointConfig, section))
    return endpoints


def _config(cls: type[EndpointConfig], section: dict[str, Any] | None) -> EndpointConfig | None:
    return None if section is None else cls.from_dict(dict(section))
