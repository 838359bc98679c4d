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
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    Restarted,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.admin.accounts import BOOTSTRAP_ADMIN, AccountError, AccountService, save_one_time_password
from kefu.admin.knowledge import FaqEditor, KnowledgeEditError, entry_json, parse_entry
from kefu.admin.permissions import ROLE_PERMISSIONS, Permission, Role, allowed
from kefu.admin.verification_locks import lock_json, valid_key
from kefu.analytics.stats import MAX_DAYS, dashboard_figures
from kefu.channels.http import (
    ApiError,
    HttpChannel,
    OnNewMessage,
    bearer_token,
    error_response,
    json_object,
    ready_agent,
)
from kefu.channels.message_guard import guard_message, message_limit
from kefu.db.accounts import Account
from kefu.db.handoffs import HandoffRepository
from kefu.handoffs.desk import HandoffDesk, HandoffError, handoff_json, transcript_from_events
from kefu.security.conversation_access import ConversationOwner, OwnerRegistry, get_owner_registry
from kefu.security.ratelimit import RateLimiter, client_ip, get_rate_limiter
from kefu.security.verification import VerificationGuard, VerificationUnavailable, get_verification_guard
from kefu.settings import get_settings

logger = logging.getLogger(__name__)

SPEC_PATH = Path(__file__).resolve().parent.parent / "admin" / "openapi.yaml"
SESSION_KEY = "admin_session"
MAX_SEARCH_SCAN = 1000
MAX_SEARCH_RESULTS = 100
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Endpoint:
    """One route: OpenAPI path (``{name}`` parameters), method, the permission it needs, its handler."""

    method: str
    path: str
    permission: Permission | None  # None: public (login, the spec)
    handler: str

    @property
    def sanic_path(self) -> str:
        # Every parameter is routed as a string and checked by the guard: a malformed one gets the
        # API's JSON 404 instead of Sanic's HTML page.
        path = self.path
        for name in ("handoff_id", "topic", "username", "session_id", "lock_key"):
            path = path.replace("{" + name + "}", f"<{name}:str>")
        return path


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/openapi.json", None, "openapi"),
    Endpoint("POST", "/auth/login", None, "login"),
    Endpoint("POST", "/auth/logout", Permission.OWN_ACCOUNT, "logout"),
    Endpoint("GET", "/auth/me", Permission.OWN_ACCOUNT, "me"),
    Endpoint("GET", "/roles", Permission.VIEW_ROLES, "roles"),
    Endpoint("GET", "/users", Permission.MANAGE_USERS, "list_users"),
    Endpoint("POST", "/users", Permission.MANAGE_USERS, "create_user"),
    Endpoint("PATCH", "/users/{username}", Permission.MANAGE_USERS, "update_user"),
    Endpoint("DELETE", "/users/{username}", Permission.MANAGE_USERS, "deactivate_user"),
    Endpoint("GET", "/knowledge/faq", Permission.VIEW_FAQ, "list_faq"),
    Endpoint("POST", "/knowledge/faq", Permission.CREATE_KNOWLEDGE, "create_faq"),
    Endpoint("GET", "/knowledge/faq/{topic}", Permission.VIEW_FAQ, "get_faq"),
    Endpoint("PUT", "/knowledge/faq/{topic}", Permission.EDIT_KNOWLEDGE, "update_faq"),
    Endpoint("DELETE", "/knowledge/faq/{topic}", Permission.DELETE_KNOWLEDGE, "delete_faq"),
    Endpoint("GET", "/handoffs", Permission.HANDOFF_VIEW, "list_handoffs"),
    Endpoint("GET", "/handoffs/{handoff_id}", Permission.HANDOFF_VIEW, "get_handoff"),
    Endpoint("POST", "/handoffs/{handoff_id}/claim", Permission.HANDOFF_CLAIM, "claim_handoff"),
    Endpoint("POST", "/handoffs/{handoff_id}/reply", Permission.HANDOFF_REPLY, "reply_handoff"),
    Endpoint("POST", "/handoffs/{handoff_id}/close", Permission.HANDOFF_CLOSE, "close_handoff"),
    Endpoint("POST", "/sessions", Permission.CREATE_SESSION, "create_session"),
    Endpoint("GET", "/sessions/{session_id}", Permission.VIEW_SESSION, "get_session"),
    Endpoint("DELETE", "/sessions/{session_id}", Permission.END_SESSION, "end_session"),
    Endpoint("POST", "/sessions/{session_id}/messages", Permission.SEND_MESSAGE, "send_message"),
    Endpoint("GET", "/conversations/search", Permission.SEARCH_CONVERSATIONS, "search"),
    Endpoint("GET", "/analytics/summary", Permission.VIEW_ANALYTICS, "analytics_summary"),
    Endpoint("GET", "/verification-locks", Permission.VIEW_VERIFICATION_LOCKS, "list_verification_locks"),
    Endpoint(
        "DELETE",
        "/verification-locks/{lock_key}",
        Permission.CLEAR_VERIFICATION_LOCKS,
        "clear_verification_lock",
    ),
)


@lru_cache(maxsize=1)
def openapi_spec() -> dict[str, Any]:
    """The OpenAPI document (``kefu/admin/openapi.yaml``)."""
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def _json_body(request: Request) -> dict[str, Any]:
    return json_object(request.body, get_settings().max_body_bytes)


def _handoff_id(value: str | int) -> int:
    raw = str(value)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18 and int(raw) >= 1):
        raise ApiError("转人工请求不存在。 No such handoff request.", 404, "not_found")
    return int(raw)


class RasaConversations:
    """The handoff desk's view of Rasa's conversations (:class:`kefu.handoffs.desk.Conversations`)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @property
    def agent(self) -> Any:
        agent = getattr(self.app.ctx, "agent", None)
        if agent is None:
            raise ApiError("助手尚未就绪。 The assistant is not ready.", 503, "unavailable")
        return agent

    async def transcript(self, sender_id: str) -> list[dict[str, Any]]:
        tracker = await self.agent.tracker_store.retrieve(sender_id)
        return transcript_from_events(e.as_dict() for e in tracker.events) if tracker else []

    async def pause(self, sender_id: str, notice: str, agent: str) -> None:
        await self._append(sender_id, [ConversationPaused()], notice, agent)

    async def say(self, sender_id: str, text: str, agent: str) -> None:
        await self._append(sender_id, [], text, agent)

    async def resume(self, sender_id: str, notice: str, agent: str) -> None:
        await self._append(sender_id, [ConversationResumed()], notice, agent)

    async def _append(self, sender_id: str, events: list[Event], text: str, agent: str) -> None:
        """Appends ``events`` and the agent's message to the conversation, then delivers the message."""
        rasa_agent = self.agent
        async with rasa_agent.lock_store.lock(sender_id):
            tracker = await rasa_agent.tracker_store.retrieve(sender_id)
            if tracker is None:
                raise ApiError("会话不存在。 The conversation no longer exists.", 404, "not_found")
            for event in events:
                tracker.update(event)
            tracker.update(BotUttered(text, metadata={"agent": agent}))
            await rasa_agent.tracker_store.save(tracker)
            channel_name = tracker.get_latest_input_channel()
        output = self._output_channel(channel_name)
        if output is not None:
            try:
                await output.send_text_message(sender_id, text)
            except Exception:
                logger.exception(
                    "Could not deliver an agent's message to %s over %s.", sender_id, channel_name
                )

    def _output_channel(self, name: str | None) -> Any:
        for channel in getattr(self.app.ctx, "input_channels", None) or []:
            if channel.name() == name:
                return channel.get_output_channel()
        return None


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
                    params["handoff_id"] = _handoff_id(params["handoff_id"])
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


def _account_json(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "role": account.role,
        "active": account.active,
        "created_at": account.created_at.isoformat(timespec="seconds"),
    }


class Handlers:
    """The endpoints' bodies; authentication and permissions are already checked."""

    def __init__(self, channel: AdminInput, on_new_message: OnNewMessage) -> None:
        self.channel = channel
        self.on_new_message = on_new_message

    # -- spec and auth ----------------------------------------------------------------------------
    async def openapi(self, request: Request, account: None) -> HTTPResponse:
        return response.json(openapi_spec())

    async def login(self, request: Request, account: None) -> HTTPResponse:
        body = _json_body(request)
        issued = await asyncio.to_thread(
            self.channel.accounts.login, body.get("username"), body.get("password")
        )
        if issued is None:
            raise ApiError("用户名或密码错误。 Wrong username or password.", 401, "unauthorized")
        return response.json(
            {
                "token": issued.token,
                "token_type": "bearer",
                "expires_at": issued.expires_at.isoformat(timespec="seconds"),
                "user": _account_json(issued.account),
            }
        )

    async def logout(self, request: Request, account: Account) -> HTTPResponse:
        await asyncio.to_thread(self.channel.accounts.logout, bearer_token(request) or "")
        return response.empty()

    async def me(self, request: Request, account: Account) -> HTTPResponse:
        permissions = sorted(p.value for p in ROLE_PERMISSIONS[Role(account.role)])
        return response.json({**_account_json(account), "permissions": permissions})

    # -- users and roles --------------------------------------------------------------------------
    async def roles(self, request: Request, account: Account) -> HTTPResponse:
        return response.json(
            {r.value: sorted(p.value for p in perms) for r, perms in ROLE_PERMISSIONS.items()}
        )

    async def list_users(self, request: Request, account: Account) -> HTTPResponse:
        users = await asyncio.to_thread(self.channel.accounts.list_users)
        return response.json({"users": [_account_json(u) for u in users]})

    async def create_user(self, request: Request, account: Account) -> HTTPResponse:
        body = _json_body(request)
        created = await asyncio.to_thread(
            self.channel.accounts.create_user, body.get("username"), body.get("password"), body.get("role")
        )
        return response.json(_account_json(created), status=201)

    async def update_user(self, request: Request, account: Account, username: str) -> HTTPResponse:
        body = _json_body(request)
        updated = await asyncio.to_thread(
            self.channel.accounts.update_user,
            username,
            body.get("role"),
            body.get("active"),
            body.get("password"),
        )
        return response.json(_account_json(updated))

    async def deactivate_user(self, request: Request, account: Account, username: str) -> HTTPResponse:
        updated = await asyncio.to_thread(self.channel.accounts.deactivate, username)
        return response.json(_account_json(updated))

    # -- knowledge --------------------------------------------------------------------------------
    async def list_faq(self, request: Request, account: Account) -> HTTPResponse:
        entries = await asyncio.to_thread(self.channel.faq.all)
        return response.json({"faq": [entry_json(e) for e in entries]})

    async def get_faq(self, request: Request, account: Account, topic: str) -> HTTPResponse:
        entry = await asyncio.to_thread(self.channel.faq.get, topic)
        if entry is None:
            raise ApiError("FAQ 不存在。 No such FAQ topic.", 404, "not_found")
        return response.json(entry_json(entry))

    async def create_faq(self, request: Request, account: Account) -> HTTPResponse:
        entry = parse_entry(_json_body(request))
        await asyncio.to_thread(self.channel.faq.create, entry)
        return response.json(entry_json(entry), status=201)

    async def update_faq(self, request: Request, account: Account, topic: str) -> HTTPResponse:
        entry = parse_entry(_json_body(request), topic=topic)
        await asyncio.to_thread(self.channel.faq.update, entry)
        return response.json(entry_json(entry))

    async def delete_faq(self, request: Request, account: Account, topic: str) -> HTTPResponse:
        await asyncio.to_thread(self.channel.faq.delete, topic)
        return response.empty()

    # -- handoff desk -----------------------------------------------------------------------------
    def _desk(self, request: Request) -> HandoffDesk:
        return HandoffDesk(RasaConversations(request.app), self.channel.handoffs)

    async def list_handoffs(self, request: Request, account: Account) -> HTTPResponse:
        waiting = await asyncio.to_thread(self.channel.handoffs.list_waiting)
        return response.json({"handoffs": [handoff_json(h) for h in waiting]})

    async def get_handoff(self, request: Request, account: Account, handoff_id: int) -> HTTPResponse:
        handoff, transcript = await self._desk(request).detail(handoff_id)
        return response.json(handoff_json(handoff, transcript))

    async def claim_handoff(self, request: Request, account: Account, handoff_id: int) -> HTTPResponse:
        return response.json(handoff_json(await self._desk(request).claim(handoff_id, account.username)))

    async def reply_handoff(self, request: Request, account: Account, handoff_id: int) -> HTTPResponse:
        text = _json_body(request).get("text")
        return response.json(
            handoff_json(await self._desk(request).reply(handoff_id, account.username, text))
        )

    async def close_handoff(self, request: Request, account: Account, handoff_id: int) -> HTTPResponse:
        return response.json(handoff_json(await self._desk(request).close(handoff_id, account.username)))

    # -- sessions ---------------------------------------------------------------------------------
    async def create_session(self, request: Request, account: Account) -> HTTPResponse:
        _json_body(request)
        agent = ready_agent(request)
        record = {
            "session_id": uuid.uuid4().hex,
            "owner": account.username,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        session_id = record["session_id"]
        owner = ConversationOwner(self.channel.name(), staff=account.username, session=record)
        if not await self.channel.owners.add(session_id, owner):
            raise ApiError("会话编号冲突，请重试。 The new session id is taken; try again.", 409, "conflict")
        async with agent.lock_store.lock(session_id):
            tracker = await agent.processor.fetch_tracker_with_initial_session(
                session_id, CollectingOutputChannel(), {SESSION_KEY: record}
            )
            await agent.processor.save_tracker(tracker)
        return response.json(record, status=201)

    async def _conversation(
        self, request: Request, account: Account, session_id: str
    ) -> tuple[Any, dict | None]:
        """The tracker and admin session record; a 404 unless ``account`` may see the conversation.

        The record is the one the server kept when the session was created, never message metadata.
        """
        agent = ready_agent(request)
        tracker = await agent.tracker_store.retrieve_full_tracker(session_id)
        events = list(tracker.events) if tracker else []
        owner = await self.channel.owners.get(session_id)
        record = owner.session if owner is not None and owner.channel == self.channel.name() else None
        own = record is not None and owner is not None and owner.staff == account.username
        if not events or (account.role == Role.CUSTOMER.value and not own):
            raise ApiError("会话不存在。 No such session.", 404, "not_found")
        return tracker, record

    async def get_session(self, request: Request, account: Account, session_id: str) -> HTTPResponse:
        tracker, record = await self._conversation(request, account, session_id)
        return response.json(
            {
                "session_id": session_id,
                "owner": (record or {}).get("owner"),
                "created_at": (record or {}).get("created_at"),
                "channel": tracker.get_latest_input_channel(),
                "paused": tracker.is_paused(),
                "transcript": transcript_from_events(e.as_dict() for e in tracker.events),
            }
        )

    async def end_session(self, request: Request, account: Account, session_id: str) -> HTTPResponse:
        tracker, _ = await self._conversation(request, account, session_id)
        agent = ready_agent(request)
        open_request = await asyncio.to_thread(self.channel.handoffs.open_for_sender, session_id)
        if open_request is not None:
            await asyncio.to_thread(self.channel.handoffs.close, open_request.id)
        async with agent.lock_store.lock(session_id):
            tracker = await agent.tracker_store.retrieve(session_id)
            for event in (ActionExecuted("action_restart"), Restarted()):
                tracker.update(event)
            await agent.tracker_store.save(tracker)
        return response.empty()

    async def send_message(self, request: Request, account: Account, session_id: str) -> HTTPResponse:
        text = _json_body(request).get("text")
        if not isinstance(text, str):
            raise ApiError("text 字段必须是字符串。 The field text must be a string.")
        _, record = await self._conversation(request, account, session_id)
        polite = guard_message(text, self.channel.max_message_chars)
        if polite is not None:
            return response.json({"session_id": session_id, "messages": [{"text": polite}]})
        collector = CollectingOutputChannel()
        await self.on_new_message(
            UserMessage(
                text,
                collector,
                session_id,
                input_channel=self.channel.name(),
                metadata={SESSION_KEY: record} if record else None,
            )
        )
        messages = [{k: v for k, v in m.items() if k != "recipient_id"} for m in collector.messages]
        return response.json({"session_id": session_id, "messages": messages})

    # -- search -----------------------------------------------------------------------------------
    async def search(self, request: Request, account: Account) -> HTTPResponse:
        query = (request.args.get("q") or "").strip()
        if not query or len(query) > 200:
            raise ApiError("q 须为 1-200 个字符。 The query q must have 1-200 characters.")
        try:
            limit = min(max(int(request.args.get("limit") or 20), 1), MAX_SEARCH_RESULTS)
        except ValueError as exc:
            raise ApiError("limit 必须是整数。 limit must be a whole number.") from exc
        agent = ready_agent(request)
        needle = query.casefold()
        hits: list[dict[str, Any]] = []
        for scanned, sender_id in enumerate(await agent.tracker_store.keys()):
            if scanned >= MAX_SEARCH_SCAN or len(hits) >= limit:
                break
            tracker = await agent.tracker_store.retrieve(sender_id)
            for turn in transcript_from_events(e.as_dict() for e in tracker.events) if tracker else []:
                if needle in turn["text"].casefold():
                    hits.append({"session_id": sender_id, **turn})
                    if len(hits) >= limit:
                        break
        return response.json({"query": query, "results": hits})

    # -- analytics --------------------------------------------------------------------------------
    async def analytics_summary(self, request: Request, account: Account) -> HTTPResponse:
        """The dashboard's figures (:func:`kefu.analytics.stats.dashboard_figures`)."""
        raw = request.args.get("days") or "14"
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_DAYS):
            raise ApiError(
                f"days 须为 1-{MAX_DAYS} 的整数。 days must be a whole number from 1 to {MAX_DAYS}."
            )
        today = self.channel.settings.now().date()  # the calendar, not SHOP_TODAY: events carry real times
        figures = await asyncio.to_thread(dashboard_figures, today, int(raw), self.channel.database_url)
        return response.json(figures, headers={"Cache-Control": "no-store"})

    # -- phone-verification lock-outs -------------------------------------------------------------
    async def list_verification_locks(self, request: Request, account: Account) -> HTTPResponse:
        """The orders and clients locked out of the phone-digit check now, the longest lock first."""
        locks = await asyncio.to_thread(self.channel.verification.lockouts)
        now = dt.datetime.now(dt.timezone.utc).timestamp()
        return response.json(
            {"locks": [lock_json(lock, now) for lock in locks]}, headers={"Cache-Control": "no-store"}
        )

    async def clear_verification_lock(
        self, request: Request, account: Account, lock_key: str
    ) -> HTTPResponse:
        if not valid_key(lock_key) or not await asyncio.to_thread(self.channel.verification.clear, lock_key):
            raise ApiError("没有这个锁定。 No such lock.", 404, "not_found")
        logger.warning("Admin API: %s cleared a verification lock.", account.username)
        return response.empty()
