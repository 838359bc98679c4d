"""The HTTP plumbing every channel shares: errors as JSON, request bodies, tokens, the agent, health.

A channel module holds only its own protocol; what any HTTP API of the assistant does the same way
lives here, so that the REST, SDK, admin, web chat, dashboard and WeChat channels answer alike.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

# What every page the assistant serves sends besides its own Content-Security-Policy.
PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class HttpChannel(InputChannel):
    """A channel of the assistant's server, named by ``channel_name`` and built from the keyword
    arguments under its class path in ``credentials.yml``."""

    channel_name: ClassVar[str] = ""

    @classmethod
    def name(cls) -> str:
        return cls.channel_name

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(**(credentials or {}))


class ApiError(Exception):
    """A request an API refuses: ``status`` and ``code`` say how, the message says why (中文 + English)."""

    def __init__(
        self, message: str, status: int = 400, code: str = "bad_request", retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        """``Retry-After`` for a rate limit, ``WWW-Authenticate`` for a missing credential."""
        if self.retry_after is not None:
            return {"Retry-After": str(self.retry_after)}
        if self.status == 401:
            return {"WWW-Authenticate": "Bearer"}
        return None

    def as_response(self) -> HTTPResponse:
        return error_response(str(self), self.status, self.code, self.headers())


def error_response(
    message: str, status: int, code: str, headers: dict[str, str] | None = None
) -> HTTPResponse:
    """The one error body of the assistant's APIs: ``{"error": message, "code": code}``."""
    return response.json({"error": message, "code": code}, status=status, headers=headers)


def json_object(body: bytes | None, max_bytes: int, example: str | None = None) -> dict[str, Any]:
    """A request body that must be a JSON object of at most ``max_bytes``; raises :class:`ApiError`."""
    body = body or b""
    if len(body) > max_bytes:
        raise ApiError(
            f"请求体超过 {max_bytes} 字节。 The request body is larger than {max_bytes} bytes.",
            413,
            "too_large",
        )
    try:
        payload = json.loads(body or b"{}")
    except (ValueError, RecursionError) as exc:
        raise ApiError("请求体不是合法的 JSON。 The request body is not valid JSON.") from exc
    if not isinstance(payload, dict):
        hint = f"，例如 {example}" if example else ""
        raise ApiError(f"请求体必须是 JSON 对象{hint}。 The request body must be a JSON object.")
    return payload


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def ready_agent(request: Request) -> Any:
    """The Rasa agent of this server once a model is loaded; a 503 :class:`ApiError` before."""
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or not agent.is_ready():
        raise ApiError(
            "助手尚未就绪，请稍后再试。 The assistant has no model loaded yet; try again shortly.",
            503,
            "unavailable",
        )
    return agent


def add_health_route(blueprint: Blueprint) -> None:
    """``GET /`` of a channel answers ``{"status": "ok"}``, as Rasa's own channels do."""

    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    blueprint.add_route(health, "/", methods=["GET"], name="health")
