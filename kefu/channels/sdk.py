"""The HTTP API of the Python SDK (``longtang_sdk``), under ``/webhooks/sdk``.

- ``POST /webhooks/sdk/sessions`` ``{"user_id"?, "channel"?, "context"?}`` starts a conversation
  and answers 201 with the session, whose ``session_id`` is the Rasa sender id. The session
  (user id, channel, context, calling application) is recorded by the server as the
  conversation's owner (:mod:`kefu.security.conversation_access`), never read back from message
  metadata, and is passed as ``metadata.sdk_session`` with every message.
- ``GET /webhooks/sdk/sessions/<id>`` answers the session, 404 when it is unknown.
- ``POST /webhooks/sdk/sessions/<id>/messages`` ``{"text", "intent_filter"?, "metadata"?,
  "message_id"?}`` answers ``{"messages": [...], "intent": {"name", "confidence"}, "entities": [...],
  "source": {"type", "id", "title", "score"} | null, ...}``. ``intent_filter`` travels as
  ``metadata.intent_filter`` to :class:`kefu.nlu.intent_filter.IntentFilter`. A
  ``message_id`` already in the conversation is answered from it, not processed again, so that a
  client may retry safely.

Only the application that created a session may use it: the API key is the session's proof (the
REST and socket.io channels can't reach it). The calling application authenticates with
``Authorization: Bearer <key>`` or ``X-API-Key: <key>``, checked against ``SDK_API_KEYS``
(settings ``sdk_api_keys``); with none configured any key is accepted, which production mode
refuses. Rate limits (:mod:`kefu.security.ratelimit`): every request counts against its API key
(``SDK_RATE_PER_MINUTE``, or per client address without keys), and every message against its
session as a chat sender (``CHAT_RATE_PER_MINUTE``); over a limit the answer is 429 with
``Retry-After``. A body over ``MAX_BODY_BYTES`` or metadata over ``MAX_METADATA_BYTES`` is 413;
metadata loses the reserved keys (``sdk_session``, ...). Errors are JSON
``{"error": "<中文> <English>", "code": ...}`` with 400, 401, 404, 413, 429 or 503.

credentials.yml::

    kefu.channels.sdk.SdkInput: {}
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, Event, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.channels.http import ApiError, HttpChannel, OnNewMessage, add_health_route, ready_agent
from kefu.channels.message_guard import guard_message, message_limit
from kefu.channels.sdk_requests import (
    api_key_of,
    application_of,
    parse_message_body,
    parse_session_body,
)
from kefu.nlu.intent_filter import METADATA_KEY as INTENT_FILTER_KEY
from kefu.security.conversation_access import ConversationOwner, OwnerRegistry, get_owner_registry
from kefu.security.ratelimit import RateLimiter, client_ip, get_rate_limiter
from kefu.settings import SettingsError, get_settings

logger = logging.getLogger(__name__)


SESSION_KEY = "sdk_session"


def bot_messages(event: BotUttered) -> list[dict[str, Any]]:
    """A logged bot utterance as the messages the channel sent for it (text parts, then the rest)."""
    data = {k: v for k, v in (event.data or {}).items() if v is not None}
    messages: list[dict[str, Any]] = []
    if event.text and data.get("buttons"):
        messages.append({"text": event.text, "buttons": data["buttons"]})
    elif event.text:
        messages.extend({"text": part} for part in event.text.strip().split("\n\n"))
    messages.extend({key: data[key]} for key in ("custom", "image", "attachment") if data.get(key))
    return messages


@dataclass(frozen=True)
class Turn:
    """A customer message found in a conversation, with what the assistant answered to it."""

    intent: dict[str, Any] | None
    entities: list[dict[str, Any]]
    messages: list[dict[str, Any]]


def find_turn(events: Iterable[Event], message_id: str) -> Turn | None:
    """The turn of the customer message ``message_id``, or None when it is not in ``events``."""
    turn: Turn | None = None
    for event in events:
        if isinstance(event, UserUttered):
            if turn is not None:
                break
            if event.message_id == message_id:
                turn = Turn(intent_of(event), entities_of(event), [])
        elif turn is not None and isinstance(event, BotUttered):
            turn.messages.extend(bot_messages(event))
    return turn


def intent_of(event: UserUttered) -> dict[str, Any] | None:
    name = (event.intent or {}).get("name")
    if not name:
        return None
    return {"name": name, "confidence": float((event.intent or {}).get("confidence") or 0.0)}


def entities_of(event: UserUttered) -> list[dict[str, Any]]:
    keys = ("entity", "value", "start", "end")
    return [{k: e[k] for k in keys if k in e} for e in event.entities or [] if isinstance(e, dict)]


def answer_source(messages: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The source of the answer: the last ``{"custom": {"source": {...}}}`` the assistant sent."""
    source = None
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("source"), dict):
            source = custom["source"]
    return source


def reply_body(session_id: str, message_id: str, turn: Turn, replayed: bool = False) -> dict[str, Any]:
    """The JSON answer to a message."""
    return {
        "session_id": session_id,
        "message_id": message_id,
        "messages": turn.messages,
        "intent": turn.intent,
        "entities": turn.entities,
        "source": answer_source(turn.messages),
        "replayed": replayed,
    }


class SdkInput(HttpChannel):
    """The SDK's REST API: sessions and messages, authenticated by API key."""

    channel_name = "sdk"

    def __init__(
        self,
        api_keys: Mapping[str, str] | None = None,
        max_message_chars: int | None = None,
        rate_per_minute: int | None = None,
        chat_rate_per_minute: int | None = None,
        limiter: RateLimiter | None = None,
        owners: OwnerRegistry | None = None,
    ) -> None:
        settings = get_settings()
        self.owners = owners or get_owner_registry()  # who owns each conversation
        self.max_body_bytes = settings.max_body_bytes
        self.max_metadata_bytes = settings.max_metadata_bytes
        self.rate_per_minute = settings.sdk_rate_per_minute if rate_per_minute is None else rate_per_minute
        self.chat_rate_per_minute = (
            settings.chat_rate_per_minute if chat_rate_per_minute is None else chat_rate_per_minute
        )
        self.limiter = limiter or get_rate_limiter()
        self.api_keys = dict(settings.sdk_api_keys if api_keys is None else api_keys)
        if settings.production and not self.api_keys:
            raise SettingsError(
                "SDK_API_KEYS is empty: in production the SDK channel needs the API keys of the "
                "applications allowed to use it (name:key,name:key), or remove it from credentials.yml"
            )
        self.max_message_chars = message_limit(max_message_chars, settings.max_message_chars)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """``GET /``, ``POST /sessions``, ``GET /sessions/<id>`` and ``POST /sessions/<id>/messages``."""
        api = Blueprint("kefu_sdk_api")

        add_health_route(api)

        @api.route("/sessions", methods=["POST"])
        async def create_session(request: Request) -> HTTPResponse:
            try:
                app = application_of(api_key_of(request), self.api_keys)
                await self._rate_limit(request, app)
                new = parse_session_body(request.body, self.max_body_bytes)
                agent = ready_agent(request)
            except ApiError as error:
                return error.as_response()
            session_id = uuid.uuid4().hex
            record = {
                "session_id": session_id,
                "user_id": new.user_id,
                "channel": new.channel,
                "context": new.context,
                "app": app,
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            }
            try:
                owner = ConversationOwner(self.name(), app=app, session=record)
                if not await self.owners.add(session_id, owner):
                    raise RuntimeError(f"the new session id {session_id} is taken")
                async with agent.lock_store.lock(session_id):
                    tracker = await agent.processor.fetch_tracker_with_initial_session(
                        session_id, CollectingOutputChannel(), {SESSION_KEY: record}
                    )
                    await agent.processor.save_tracker(tracker)
            except Exception:
                logger.exception("Failed to create an SDK session for application %s.", app)
                return _internal_error("助手创建会话时出错。 The assistant failed to create the session.")
            logger.debug("SDK session %s created for application %s.", session_id, app)
            return response.json(_public(record), status=201)

        @api.route("/sessions/<session_id:str>", methods=["GET"])
        async def get_session(request: Request, session_id: str) -> HTTPResponse:
            try:
                app = application_of(api_key_of(request), self.api_keys)
                await self._rate_limit(request, app)
                agent = ready_agent(request)
                record, _ = await self._session(agent, session_id, app)
            except ApiError as error:
                return error.as_response()
            return response.json(_public(record))

        @api.route("/sessions/<session_id:str>/messages", methods=["POST"])
        async def send_message(request: Request, session_id: str) -> HTTPResponse:
            try:
                app = application_of(api_key_of(request), self.api_keys)
                await self._rate_limit(request, app, session_id)
                message = parse_message_body(request.body, self.max_body_bytes, self.max_metadata_bytes)
                agent = ready_agent(request)
                record, events = await self._session(agent, session_id, app)
            except ApiError as error:
                return error.as_response()

            earlier = find_turn(events, message.message_id)
            if earlier is not None:
                return response.json(reply_body(session_id, message.message_id, earlier, replayed=True))
            polite = guard_message(message.text, self.max_message_chars)
            if polite is not None:
                turn = Turn(None, [], [{"text": polite}])
                return response.json(reply_body(session_id, message.message_id, turn))

            metadata = {**message.metadata, SESSION_KEY: record}
            if message.intent_filter:
                metadata[INTENT_FILTER_KEY] = message.intent_filter
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        message.text,
                        collector,
                        session_id,
                        input_channel=self.name(),
                        message_id=message.message_id,
                        metadata=metadata,
                    )
                )
            except Exception:
                logger.exception("Failed to handle an SDK message in session %s.", session_id)
                return _internal_error("助手处理消息时出错。 The assistant failed to handle the message.")
            tracker = await agent.tracker_store.retrieve(session_id)
            handled = find_turn(tracker.events if tracker else [], message.message_id)
            messages = [{k: v for k, v in m.items() if k != "recipient_id"} for m in collector.messages]
            turn = Turn(handled.intent if handled else None, handled.entities if handled else [], messages)
            return response.json(reply_body(session_id, message.message_id, turn))

        return api

    async def _rate_limit(self, request: Request, app: str, session_id: str | None = None) -> None:
        """Counts the request against its application (its client address in development, where
        every caller is the same application) and a message against its session."""
        caller = f"app:{app}" if self.api_keys else f"ip:{client_ip(request)}"
        decision = await self.limiter.hit(f"sdk-{caller}", self.rate_per_minute)
        if decision.allowed and session_id is not None:
            decision = await self.limiter.hit(f"chat-sender:{session_id}", self.chat_rate_per_minute)
        if not decision.allowed:
            raise ApiError(
                f"请求过于频繁，请{decision.retry_after}秒后再试。 Too many requests; retry after "
                f"{decision.retry_after} s.",
                429,
                "rate_limited",
                retry_after=decision.retry_after,
            )

    async def _session(self, agent: Any, session_id: str, app: str) -> tuple[dict[str, Any], list[Event]]:
        """The session record and events of ``session_id``; a 404 unless ``app`` created it here."""
        owner = await self.owners.get(session_id)
        if owner is None or owner.channel != self.name() or owner.session is None or owner.app != app:
            raise ApiError(
                "会话不存在，请先创建会话。 No such session: create one with POST /webhooks/sdk/sessions.",
                404,
                "not_found",
            )
        tracker = await agent.tracker_store.retrieve_full_tracker(session_id)
        return owner.session, list(tracker.events) if tracker else []


def _internal_error(message: str) -> HTTPResponse:
    return response.json({"error": message, "code": "internal"}, status=500)


def _public(record: Mapping[str, Any]) -> dict[str, Any]:
    """A session as the API shows it (the calling application's name stays inside)."""
    return {k: record.get(k) for k in ("session_id", "user_id", "channel", "context", "created_at")}
