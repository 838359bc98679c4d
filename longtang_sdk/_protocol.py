"""The SDK's HTTP protocol without I/O: building requests, reading answers, deciding on retries.

Both clients share it, so that the sync and the async API cannot drift apart.
"""

from __future__ import annotations

import json
import platform
import random
import uuid
from typing import Any, Callable, Mapping, Sequence, TypeVar
from urllib.parse import quote

from longtang_sdk import errors
from longtang_sdk.config import ClientConfig
from longtang_sdk.models import MessageResponse, Session
from longtang_sdk.transport import HttpRequest, HttpResponse
from longtang_sdk.version import __version__

T = TypeVar("T")

SESSIONS_PATH = "/webhooks/sdk/sessions"
USER_AGENT = f"longtang-sdk/{__version__} python/{platform.python_version()}"


class ApiProtocol:
    """Requests and answers of the assistant's SDK channel (``/webhooks/sdk``)."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config

    def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> HttpRequest:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return HttpRequest(method, f"{self.config.endpoint}{path}", headers, data)

    def create_session(
        self, user_id: str | None, channel: str, context: Mapping[str, Any] | None
    ) -> HttpRequest:
        if user_id is not None and not isinstance(user_id, str):
            raise TypeError("user_id must be a string or None")
        if not isinstance(channel, str) or not channel:
            raise TypeError("channel must be a non-empty string")
        if context is not None and not isinstance(context, Mapping):
            raise TypeError("context must be a dict or None")
        body: dict[str, Any] = {"channel": channel, "context": dict(context or {})}
        if user_id is not None:
            body["user_id"] = user_id
        return self._request("POST", SESSIONS_PATH, body)

    def get_session(self, session_id: str | Session) -> HttpRequest:
        return self._request("GET", f"{SESSIONS_PATH}/{_session_path(session_id)}")

    def send_message(
        self,
        session_id: str | Session,
        text: str,
        intent_filter: Sequence[str] | None,
        metadata: Mapping[str, Any] | None,
        user_token: str | None,
        message_id: str | None,
    ) -> HttpRequest:
        if not isinstance(text, str):
            raise TypeError("text must be a string")
        body: dict[str, Any] = {"text": text, "message_id": message_id or uuid.uuid4().hex}
        if intent_filter is not None:
            if isinstance(intent_filter, str) or not all(isinstance(i, str) for i in intent_filter):
                raise TypeError('intent_filter must be a list of intent names, e.g. ["query_order"]')
            body["intent_filter"] = list(intent_filter)
        if metadata is not None and not isinstance(metadata, Mapping):
            raise TypeError("metadata must be a dict or None")
        extra = dict(metadata or {})
        if user_token is not None:
            if not isinstance(user_token, str) or not user_token:
                raise TypeError("user_token must be a non-empty string (the customer's signed token)")
            extra["user_token"] = user_token
        if extra:
            body["metadata"] = extra
        return self._request("POST", f"{SESSIONS_PATH}/{_session_path(session_id)}/messages", body)

    @staticmethod
    def session(answer: HttpResponse) -> Session:
        return Session.from_json(_json_object(answer))

    @staticmethod
    def message_response(answer: HttpResponse) -> MessageResponse:
        return MessageResponse.from_json(_json_object(answer))

    def retry_wait(self, retry: int, answer: HttpResponse | None, rand: Callable[[], float]) -> float:
        """Seconds to wait before retry number ``retry`` (0 is the first): exponential with jitter,
        or the server's ``Retry-After`` when it asks for a wait, at most ``max_retry_wait``."""
        cap = self.config.max_retry_wait / 1000
        asked = _retry_after(answer) if answer is not None else None
        if asked is not None:
            return min(asked, cap)
        wait = self.config.retry_backoff / 1000 * 2.0**retry
        return min(wait, cap) * (0.5 + rand() / 2)


def _session_path(session_id: str | Session) -> str:
    value = session_id.id if isinstance(session_id, Session) else session_id
    if not isinstance(value, str) or not value:
        raise TypeError("session_id must be a session or its non-empty id")
    return quote(value, safe="")


def _json_object(answer: HttpResponse) -> dict[str, Any]:
    try:
        data = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.APIError(
            answer.status, "the assistant's answer is not JSON", "invalid_response"
        ) from exc
    if not isinstance(data, dict):
        raise errors.APIError(
            answer.status, "the assistant's answer is not a JSON object", "invalid_response"
        )
    return data


def _retry_after(answer: HttpResponse) -> float | None:
    raw = answer.header("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: use our own backoff


def error_for(answer: HttpResponse) -> errors.APIError:
    """The exception for an HTTP error answer."""
    try:
        body: Any = json.loads(answer.body.decode("utf-8")) if answer.body else None
    except (UnicodeDecodeError, ValueError):
        body = None
    message = code = None
    if isinstance(body, dict):
        message = body.get("error") if isinstance(body.get("error"), str) else None
        code = body.get("code") if isinstance(body.get("code"), str) else None
    message = message or answer.body[:200].decode("utf-8", "replace") or f"HTTP {answer.status}"
    status = answer.status
    if status in (401, 403):
        return errors.AuthenticationError(status, message, code, body)
    if status == 404:
        return errors.NotFoundError(status, message, code, body)
    if status == 429:
        return errors.RateLimitedError(status, message, code, body, retry_after=_retry_after(answer))
    if status >= 500:
        return errors.ServerError(status, message, code, body)
    if status >= 400:
        return errors.BadRequestError(status, message, code, body)
    return errors.APIError(status, message, code, body)


def is_retryable(answer: HttpResponse) -> bool:
    """5xx answers are retried; 4xx never (the same request would fail the same way)."""
    return answer.status >= 500


def default_rand() -> float:
    return random.random()
