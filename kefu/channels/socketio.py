"""A socket.io channel whose replies reach the customer when ``session_persistence`` is on.

Rasa 3.6's own channel calls python-socketio's coroutine ``enter_room`` without awaiting it, so a
persistent session never joins its room and every reply, emitted to that room, is lost. This
channel awaits it, lets a reconnecting client rejoin its session, checks every payload instead of
trusting it, and answers empty or overlong messages politely without asking the assistant.

A session belongs to the client that opened it (:mod:`kefu.security.conversation_access`): a new
session's key comes in a ``session_key`` event ``{"session_id", "session_key"}`` before
``session_confirm``; joining it again (``session_request`` or a message naming it) needs
``session_key`` in the event's data, or the customer token it was opened with. A request for a
session the client can't prove gets a new session instead. Browsers may connect from the pages the
assistant serves and from ``ALLOWED_ORIGINS``; events are at most ``MAX_BODY_BYTES``, metadata at
most ``MAX_METADATA_BYTES``.

credentials.yml::

    kefu.channels.socketio.SocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import OutputChannel
from sanic import Blueprint
from socketio import AsyncServer

from kefu.channels.access import origin_checker, tracker_exists
from kefu.channels.http import OnNewMessage, add_health_route
from kefu.channels.message_guard import checked_max_chars
from kefu.channels.socketio_events import (
    MAX_SESSION_ID_CHARS,
    SocketIOEvents,
    SocketIOOutput,
    metadata_from,
    session_id_from,
)
from kefu.security.conversation_access import OwnerRegistry, get_owner_registry
from kefu.security.ratelimit import get_rate_limiter
from kefu.settings import get_settings

__all__ = [
    "MAX_SESSION_ID_CHARS",
    "SocketIOEvents",
    "SocketIOInput",
    "SocketIOOutput",
    "metadata_from",
    "session_id_from",
]

logger = logging.getLogger(__name__)


class SocketIOInput(rasa_socketio.SocketIOInput):
    """Rasa's socket.io input channel with working session persistence and checked payloads."""

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = False,
        socketio_path: str | None = "/socket.io",
        jwt_key: str | None = None,
        jwt_method: str | None = "HS256",
        metadata_key: str | None = "metadata",
        *,
        max_message_chars: int | None = None,
        owners: OwnerRegistry | None = None,
    ) -> None:
        super().__init__(
            user_message_evt,
            bot_message_evt,
            namespace,
            session_persistence,
            socketio_path,
            jwt_key,
            jwt_method,
            metadata_key,
        )
        limit = get_settings().max_message_chars if max_message_chars is None else max_message_chars
        self.max_message_chars = checked_max_chars(limit)
        self.rate_per_minute = get_settings().chat_rate_per_minute
        self.connect_rate_per_minute = get_settings().socketio_connect_rate_per_minute
        self.limiter = get_rate_limiter()
        self.allowed_origins = get_settings().allowed_origins
        self.max_body_bytes = get_settings().max_body_bytes
        self.max_metadata_bytes = get_settings().max_metadata_bytes
        self.settings = get_settings()
        self.owners = owners or get_owner_registry()  # who owns each conversation

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> OutputChannel | None:
        """The output channel Rasa uses for messages it starts itself (reminders, external events)."""
        if self.sio is None:
            return super().get_output_channel()
        return SocketIOOutput(self.sio, self.bot_message_evt, self.namespace)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The Sanic blueprint serving the health check; attaches the socket.io server to the app."""
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=origin_checker(self.allowed_origins),
            max_http_buffer_size=self.max_body_bytes,
        )
        webhook = rasa_socketio.SocketBlueprint(sio, self.socketio_path, "socketio_webhook")
        # Rasa builds output channels for messages it starts itself from this server.
        self.sio = sio
        events = SocketIOEvents(self, sio, on_new_message)

        @webhook.listener("before_server_start")
        async def know_the_conversations(app: Any, *_: Any) -> None:
            events.exists = tracker_exists(app)

        add_health_route(webhook)

        sio.on("connect", events.connect, namespace=self.namespace)
        sio.on("disconnect", events.disconnect, namespace=self.namespace)
        sio.on("session_request", events.session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, events.user_message, namespace=self.namespace)
        return webhook
