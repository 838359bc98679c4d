"""Connections to the Redis that holds the conversation state (``REDIS_URL``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kefu.settings import SettingsError

# A Redis restart takes about a second: commands retry with backoff for a few seconds
# before failing, so a restart between two messages goes unnoticed by the customer.
RETRIES = 6
SOCKET_TIMEOUT_SECONDS = 5.0


class RedisUnavailable(SettingsError):
    """``REDIS_URL`` is set but Redis cannot be reached or refuses us; the message says how to fix it."""


def redacted(url: str) -> str:
    """``url`` with the password replaced by ``***``, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def redis_client(url: str, **options: Any) -> Any:
    """A ``redis.Redis`` for ``url`` (password, db, ``rediss://`` TLS and its query options included)."""
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    options.setdefault("socket_timeout", SOCKET_TIMEOUT_SECONDS)
    options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT_SECONDS)
    return redis.Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), RETRIES),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        **options,
    )


def check_redis(url: str, client: Any | None = None) -> None:
    """Raises :class:`RedisUnavailable` unless Redis at ``url`` accepts the credentials and answers a PING."""
    import redis

    where = f"REDIS_URL={redacted(url)}"
    try:
        client = client or redis_client(url, socket_connect_timeout=3.0, socket_timeout=3.0)
        client.ping()
    except (ValueError, redis.AuthenticationError, redis.ResponseError) as exc:
        raise RedisUnavailable(
            f"{where} is rejected by Redis ({exc}); check the password and database number in "
            "REDIS_URL (redis://:password@host:6379/0, rediss:// for TLS)"
        ) from exc
    except redis.RedisError as exc:
        raise RedisUnavailable(
            f"{where} is unreachable ({exc}); start Redis or fix the host and port in REDIS_URL. "
            "Leave REDIS_URL empty to keep conversations in memory (one server instance only)"
        ) from exc
