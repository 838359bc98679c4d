"""The admin API under ``/admin/api``, served by the Rasa server itself (port 5005).

A custom channel, like the SDK channel, so that it shares Rasa's port, process, tracker store and
agent: the handoff desk pauses, answers in and resumes the very conversations the bot holds, and an
agent's reply goes out through the customer's own channel (socket.io: into the session's room;
REST: recorded in the conversation, fetched with ``GET /webhooks/rest/messages``). The services are
in :mod:`kefu.admin`; this module is only HTTP: authentication, the permission of each endpoint
(:data:`ENDPOINTS`, deny by default), rate limits, time-outs and JSON errors. The OpenAPI 3 spec is
``kefu/admin/openapi.yaml``, served as ``GET /admin/api/openapi.json``.

credentials.yml::

    kefu.channels.admin.AdminInput: {}
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.admin.accounts import BOOTSTRAP_ADMIN, AccountError, AccountService, save_one_time_password
from kefu.admin.knowledge import FaqEditor, KnowledgeEditError
from kefu.admin.permissions import allowed
from kefu.channels.admin_handlers import Handlers
from kefu.channels.admin_routes import ALL_METHODS, ENDPOINTS, Endpoint, handoff_id
from kefu.channels.http import (
    ApiError,
    HttpChannel,
    OnNewMessage,
    bearer_token,
    error_response,
)
from kefu.channels.message_guard import message_limit
from kefu.db.handoffs import HandoffRepository
from kefu.handoffs.desk import HandoffError
from kefu.security.conversation_access import OwnerRegistry, get_owner_registry
from kefu.security.ratelimit import RateLimiter, client_ip, get_rate_limiter
from kefu.security.verification import VerificationGuard, VerificationUnavailable, get_verification_guard
from kefu.settings import get_settings

logger = logging.getLogger(__name__)


class AdminInput(HttpChannel):
    """The admin API: staff accounts, knowledge, the handoff desk, sessions, conversation search."""

    channel_name = "admin"

    def __init__(
        self,
        accounts: AccountService | None = None,
        faq: FaqEditor | None = None,
        handoffs: HandoffRepository | None = None,
        limiter: RateLimiter | None = None,
        max_message_chars: int | None = None,
        bootstrap: bool = True,
        database_url: str | None = None,
        verification: VerificationGuard | None = None,
        owners: OwnerRegistry | None = None,
    ) -> None:
        settings = get_settings()
        self._verification = verification
        self.settings = settings
        self.owners = owners or get_owner_registry()  # who owns each conversation
        self.accounts = accounts or AccountService(token_ttl_minutes=settings.admin_token_ttl_minutes)
        self.faq = faq or FaqEditor(settings.knowledge_dir)
        self.handoffs = handoffs or HandoffRepository()
        self.limiter = limiter or get_rate_limiter()
        self.max_message_chars = message_limit(max_message_chars, settings.max_message_chars)
        self.bootstrap = bootstrap
        self.database_url = database_url  # None: DATABASE_URL

    @property
    def verification(self) -> VerificationGuard:
        return self._verification or get_verification_guard()

    def url_prefix(self) -> str:
        return "/admin/api"  # absolute: Rasa would otherwise mount it under /webhooks

    def bootstrap_admin(self) -> None:
        """In development, creates ``admin`` when there is no account; a generated password goes to
        ``ADMIN_PASSWORD_FILE``."""
        password = self.accounts.bootstrap_admin(
            self.settings.admin_bootstrap_password, self.settings.production
        )
        if password is None:
            return
        if self.settings.admin_bootstrap_password:
            logger.warning("Admin API: created the user 'admin' with ADMIN_BOOTSTRAP_PASSWORD.")
        else:
            # Into a 0600 file, never into the log stream (stderr is collected with the logs).
            path = self.settings.admin_password_file
            save_one_time_password(path, BOOTSTRAP_ADMIN, password)
            logger.warning("Admin API: created the user 'admin'; its one-time password is in %s.", path)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        api = Blueprint("kefu_admin_api")
        if self.bootstrap:

            @api.listener("before_server_start")
            async def first_admin(*_: Any) -> None:
                try:
                    await asyncio.to_thread(self.bootstrap_admin)
                except Exception:
                    logger.exception(
                        "Admin API: could not bootstrap the first admin; is the database migrated?"
                    )

        handlers = Handlers(self, on_new_message)
        for endpoint in ENDPOINTS:
            api.add_route(
                self._guarded(endpoint, getattr(handlers, endpoint.handler)),
                endpoint.sanic_path,
                methods=[endpoint.method],
                name=endpoint.handler,
            )

        async def unknown(request: Request, rest: str) -> HTTPResponse:
            return error_response("没有这个接口。 No such endpoint.", 404, "not_found")

        # Anything else under /admin/api (an id with a "/" in it, a typo) is a JSON 404 as well.
        api.add_route(unknown, "/<rest:path>", methods=list(ALL_METHODS), name="unknown")
        return api

    def _guarded(self, endpoint: Endpoint, handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable:
        """The handler behind rate limit, authentication, permission, time-out and error mapping."""

        async def guarded(request: Request, **params: Any) -> HTTPResponse:
            try:
                token = bearer_token(request)
                # Logins have their own bucket: other requests (openapi.json) never use up their allowance.
                if endpoint.handler == "login":
                    await self._rate_limit(
                        f"admin-login-ip:{client_ip(request)}", self.settings.login_rate_per_minute
                    )
                else:
                    await self._rate_limit(
                        f"admin-ip:{client_ip(request)}", self.settings.admin_rate_per_minute
                    )
                account = None
                if endpoint.permission is not None:
                    account = await asyncio.to_thread(self.accounts.authenticate, token)
                    if account is None:
                        raise ApiError(
                            "请先登录。 Log in: a valid bearer token is required.", 401, "unauthorized"
                        )
                    await self._rate_limit(f"admin-token:{token}", self.settings.admin_rate_per_minute)
                    if not allowed(account.role, endpoint.permission):
                        raise ApiError(
                            f"无权访问。 Forbidden: {account.role} lacks {endpoint.permission.value}.",
                            403,
                            "forbidden",
                        )
                if "handoff_id" in params:
                    params["handoff_id"] = handoff_id(params["handoff_id"])
                return await asyncio.wait_for(
                    handler(request, account, **params), self.settings.admin_request_timeout_seconds
                )
            except ApiError as error:
                return error.as_response()
            except (AccountError, HandoffError, KnowledgeEditError) as error:
                codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 409: "conflict"}
                return error_response(str(error), error.status, codes.get(error.status, "error"))
            except VerificationUnavailable:
                logger.exception(
                    "Admin API: %s %s: lock-out records unavailable.", endpoint.method, endpoint.path
                )
                return error_response("服务暂时不可用。 Lock-out records unavailable.", 503, "unavailable")
            except asyncio.TimeoutError:
                logger.error("Admin API: %s %s timed out.", endpoint.method, endpoint.path)
                return error_response("请求超时。 The request timed out.", 503, "timeout")
            except Exception:
                logger.exception("Admin API: %s %s failed.", endpoint.method, endpoint.path)
                return error_response("服务器内部错误。 Internal error.", 500, "internal")

        guarded.__name__ = endpoint.handler
        return guarded

    async def _rate_limit(self, key: str, limit: int) -> None:
        decision = await self.limiter.hit(key, limit)
        if not decision.allowed:
            raise ApiError(
                "请求过于频繁，请稍后再试。 Too many requests.", 429, "rate_limited", decision.retry_after
            )
