"""The bodies of the admin API's endpoints, behind the guard of :mod:`kefu.channels.admin`."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any, Protocol

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import (
    ActionExecuted,
    Restarted,
)
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.admin.accounts import AccountService
from kefu.admin.knowledge import FaqEditor, entry_json, parse_entry
from kefu.admin.permissions import ROLE_PERMISSIONS, Role
from kefu.admin.verification_locks import lock_json, valid_key
from kefu.analytics.stats import MAX_DAYS, dashboard_figures
from kefu.channels.admin_routes import openapi_spec
from kefu.channels.handoff_conversations import RasaConversations
from kefu.channels.http import (
    ApiError,
    OnNewMessage,
    bearer_token,
    json_object,
    ready_agent,
)
from kefu.channels.message_guard import guard_message
from kefu.db.accounts import Account
from kefu.db.handoffs import HandoffRepository
from kefu.handoffs.desk import HandoffDesk, handoff_json, transcript_from_events
from kefu.security.conversation_access import ConversationOwner, OwnerRegistry
from kefu.security.verification import VerificationGuard
from kefu.settings import Settings, get_settings

logger = logging.getLogger(__name__)

SESSION_KEY = "admin_session"
MAX_SEARCH_SCAN = 1000
MAX_SEARCH_RESULTS = 100


def _json_body(request: Request) -> dict[str, Any]:
    return json_object(request.body, get_settings().max_body_bytes)


class AdminServices(Protocol):
    """What the handlers use of the channel: its services and limits."""

    accounts: AccountService
    faq: FaqEditor
    handoffs: HandoffRepository
    owners: OwnerRegistry
    settings: Settings
    max_message_chars: int
    database_url: str | None

    @property
    def verification(self) -> VerificationGuard: ...

    @classmethod
    def name(cls) -> str: ...


def _account_json(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "role": account.role,
        "active": account.active,
        "created_at": account.created_at.isoformat(timespec="seconds"),
    }


class Handlers:
    """The endpoints' bodies; authentication and permissions are already checked."""

    def __init__(self, channel: AdminServices, on_new_message: OnNewMessage) -> None:
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
