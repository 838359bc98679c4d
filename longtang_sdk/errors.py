"""The exceptions the SDK raises: one base class, one subclass per way a call can fail."""

from __future__ import annotations

import builtins
from typing import Any


class LongtangError(Exception):
    """Base class of every error raised by the SDK."""


class ConfigurationError(LongtangError, ValueError):
    """The client's configuration is missing a value or has a malformed one."""


class APIConnectionError(LongtangError):
    """The assistant could not be reached (refused, reset, DNS), after the configured retries."""


class TimeoutError(LongtangError, builtins.TimeoutError):
    """The assistant did not answer within ``timeout`` milliseconds. Never retried: it may still be
    working on the message."""


class APIError(LongtangError):
    """The assistant answered with an HTTP error status.

    ``status_code`` is the HTTP status, ``message`` the assistant's explanation, ``code`` its
    machine-readable error code (``"bad_request"``, ``"unauthorized"``, ...) and ``body`` the
    decoded JSON body (or None when the body was not JSON).
    """

    def __init__(self, status_code: int, message: str, code: str | None = None, body: Any = None) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.code = code
        self.body = body


class BadRequestError(APIError):
    """The request was malformed (HTTP 400, 413, 422): fix the call, retrying won't help."""


class AuthenticationError(APIError):
    """The API key is missing or not accepted by the assistant (HTTP 401, 403)."""


class NotFoundError(APIError):
    """The session does not exist, or belongs to another application (HTTP 404)."""


class RateLimitedError(APIError):
    """Too many requests (HTTP 429). ``retry_after`` is the wait in seconds the server asked for, if any."""

    def __init__(
        self,
        status_code: int,
        message: str,
        code: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status_code, message, code, body)
        self.retry_after = retry_after


class ServerError(APIError):
    """The assistant failed (HTTP 5xx), after the configured retries."""
