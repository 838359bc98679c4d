"""The client's configuration: where the assistant is, how to authenticate, how long to wait."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping
from urllib.parse import urlsplit

from longtang_sdk.errors import ConfigurationError

DEFAULT_ENDPOINT = "http://localhost:5005"


@dataclass(frozen=True)
class ClientConfig:
    """Validated settings of a :class:`~longtang_sdk.Client` or :class:`~longtang_sdk.AsyncClient`.

    Durations are in milliseconds, as in the classic integration snippet.

    - ``api_key``: identifies the calling application; sent as ``Authorization: Bearer <key>``.
    - ``endpoint``: the assistant's base URL, e.g. ``http://localhost:5005``.
    - ``timeout``: the longest wait for the assistant to answer one request.
    - ``max_retries``: further tries after a connection error or an HTTP 5xx (never after a 4xx
      or a timeout).
    - ``retry_backoff``: the wait before the first retry; doubled before each further one, with
      jitter, at most ``max_retry_wait``.
    """

    api_key: str | None = None
    endpoint: str = DEFAULT_ENDPOINT
    timeout: float = 10_000
    max_retries: int = 2
    retry_backoff: float = 500
    max_retry_wait: float = 8_000

    def __post_init__(self) -> None:
        if self.api_key is not None and (not isinstance(self.api_key, str) or not self.api_key.strip()):
            raise ConfigurationError("api_key must be a non-empty string (or left out)")
        if not isinstance(self.endpoint, str):
            raise ConfigurationError("endpoint must be a URL such as http://localhost:5005")
        parts = urlsplit(self.endpoint.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigurationError(
                f"endpoint {self.endpoint!r} must be an http(s) URL such as {DEFAULT_ENDPOINT}"
            )
        object.__setattr__(self, "endpoint", self.endpoint.strip().rstrip("/"))
        for name in ("timeout", "retry_backoff", "max_retry_wait"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigurationError(f"{name} must be a number of milliseconds >= 0, got {value!r}")
        if self.timeout <= 0:
            raise ConfigurationError(f"timeout must be more than 0 milliseconds, got {self.timeout!r}")
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise ConfigurationError(f"max_retries must be a whole number >= 0, got {self.max_retries!r}")

    @property
    def timeout_seconds(self) -> float:
        return self.timeout / 1000

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any] | None = None, **overrides: Any) -> ClientConfig:
        """A config from a dict such as ``{"api_key": ..., "endpoint": ..., "timeout": 5000}``.

        Unknown keys are an error, so that a misspelt setting is not silently ignored.
        """
        values = {**(config or {}), **overrides}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigurationError(f"unknown setting(s) {unknown}; known settings are {sorted(known)}")
        return cls(**values)

    def with_changes(self, **changes: Any) -> ClientConfig:
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)


def as_config(config: ClientConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> ClientConfig:
    """A :class:`ClientConfig` from what a client's constructor was given."""
    if isinstance(config, ClientConfig):
        return config.with_changes(**overrides) if overrides else config
    if config is not None and not isinstance(config, Mapping):
        raise ConfigurationError("config must be a dict or a ClientConfig")
    return ClientConfig.from_mapping(config, **overrides)
