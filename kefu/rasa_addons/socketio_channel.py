"""A socket.io channel whose replies reach the customer when ``session_persistence`` is on.

Rasa 3.6's own channel calls python-socketio's coroutine ``enter_room`` without awaiting it, so a
persistent session never joins its room and every reply, emitted to that room, is lost. This
channel awaits it, lets a reconnecting client rejoin its session, checks every payload instead of
trusting it, and answers empty or overlong messages politely without asking the assistant.

credentials.yml::

    kefu.rasa_addons.socketio_channel.SocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import OutputChannel, UserMessage, decode_jwt
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError as SocketIORefused

from kefu.rasa_addons.message_guard import FAILURE_REPLY, checked_max_chars, guard_message
from kefu.security.ratelimit import RATE_LIMITED_REPLY, check_chat, client_ip, get_rate_limiter
from kefu.settings import get_settings

logger = logging.getLogger(__name__)

# Rasa's SQL tracker store keeps sender ids in a VARCHAR(255).
MAX_SESSION_ID_CHARS = 255

# Keyword arguments of AsyncServer.emit() that a custom payload may carry (Rasa's convention).
_EMIT_ARGUMENTS = frozenset({"data", "to", "room", "skip_sid", "namespace"})

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def session_id_from(data: Any) -> str | None:
    """The usable ``session_id`` in an event's data, or None when it is missing or malformed."""
    value = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(value, str) and value.strip() and len(value) <= MAX_SESSION_ID_CHARS:
        return value
    return None


def metadata_from(value: Any) -> dict[str, Any]:
    """A message's metadata as a dict: a dict or a JSON object string; anything else is ignored."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            logger.warning("Ignored socket.io metadata that is not valid JSON: %.80r", value)
            return {}
    if isinstance(value, dict):
        return value
    if value is not None:
        logger.warning("Ignored socket.io metadata that is not a JSON object: %.80r", value)
    return {}


class SocketIOOutput(rasa_socketio.SocketIOOutput):
    """Sends the bot's messages to a session's room in the channel's namespace."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str, namespace: str | None = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.namespace = namespace

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await self.sio.emit(self.bot_message_evt, response, room=socket_id, namespace=self.namespace)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Sends a custom payload; Rasa's version raises TypeError unless its keys are emit() arguments."""
        if "data" in json_message and json_message.keys() <= _EMIT_ARGUMENTS:
            arguments = {"room": recipient_id, "namespace": self.namespace, **json_message}
            await self.sio.emit(self.bot_message_evt, **arguments)
        else:
            await self._send_message(recipient_id, json_message)


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
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        webhook = rasa_socketio.SocketBlueprint(sio, self.socketio_path, "socketio_webhook")
        # Rasa builds output channels for messages it starts itself from this server.
        self.sio = sio
        events = SocketIOEvents(self, sio, on_new_message)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        sio.on("connect", events.connect, namespace=self.namespace)
        sio.on("disconnect", events.disconnect, namespace=self.namespace)
        sio.on("session_request", events.session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, events.user_message, namespace=self.namespace)
        return webhook


class SocketIOEvents:
    """The socket.io event handlers of one blueprint; no client payload can make them raise."""

    def __init__(self, channel: SocketIOInput, sio: AsyncServer, on_new_message: OnNewMessage) -> None:
        self.channel = channel
        self.sio = sio
        self.on_new_message = on_new_message

    @property
    def namespace(self) -> str | None:
        return self.channel.namespace

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        """Accepts the connection, or with a ``jwt_key`` only when ``auth`` carries a valid token;
        refuses a client address that connects more than ``SOCKETIO_CONNECT_RATE_PER_MINUTE`` times a
        minute (the client's ``connect_error`` carries ``retry_after``)."""
        request = environ.get("sanic.request") if isinstance(environ, dict) else None
        ip = client_ip(request) if request is not None else None
        if ip is not None:
            decision = await self.channel.limiter.hit(
                f"socketio-connect-ip:{ip}", self.channel.connect_rate_per_minute
            )
            if not decision.allowed:
                logger.info("Refused socket.io client %s: too many connections from its address.", sid)
                raise SocketIORefused(
                    RATE_LIMITED_REPLY.format(seconds=decision.retry_after),
                    {"retry_after": decision.retry_after},
                )
        token = auth.get("token") if isinstance(auth, dict) else None
        if self.channel.jwt_key and not self._valid_token(token):
            logger.info("Refused socket.io client %s: no valid token in its auth.", sid)
            return False
        if ip is not None:  # the per-address share of the chat limit
            await self.sio.save_session(sid, {"ip": ip}, namespace=self.namespace)
        logger.debug("Socket.io client %s connected.", sid)
        return True

    def _valid_token(self, token: Any) -> bool:
        if not isinstance(token, str):
            return False
        try:
            return bool(decode_jwt(token, self.channel.jwt_key, self.channel.jwt_algorithm))
        except jwt.InvalidTokenError as exc:  # the client's fault: no traceback for it
            logger.info("Invalid socket.io token: %s", exc)
        except Exception:
            logger.exception("Could not check a socket.io token; is jwt_key/jwt_method right?")
        return False

    async def disconnect(self, sid: str, *_reason: Any) -> None:
        logger.debug("Socket.io client %s disconnected.", sid)

    async def session_request(self, sid: str, data: Any = None, *_extra: Any) -> None:
        """Confirms the client's session id, or a new one when it sent none or a malformed one."""
        try:
            session_id = session_id_from(data) or uuid.uuid4().hex
            if self.channel.session_persistence:
                await self._join_session(sid, session_id)
            await self.sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
        except Exception:
            logger.exception("Failed to handle the session request of socket.io client %s.", sid)

    async def user_message(self, sid: str, data: Any = None, *_extra: Any) -> None:
        """Hands the customer's message to the assistant, or answers it politely when it can't be."""
        try:
            await self._handle_user_message(sid, data)
        except Exception:
            logger.exception("Failed to handle a message from socket.io client %s.", sid)
            await self._apologise(sid)

    async def _apologise(self, sid: str) -> None:
        """Tells the customer on this socket that the message failed, instead of leaving them waiting."""
        try:
            await self.sio.emit(
                self.channel.bot_message_evt, {"text": FAILURE_REPLY}, room=sid, namespace=self.namespace
            )
        except Exception:
            logger.exception("Could not send the failure reply to socket.io client %s.", sid)

    async def _handle_user_message(self, sid: str, data: Any) -> None:
        if not isinstance(data, dict):
            logger.warning("Ignored a message from socket.io client %s: its data is not an object.", sid)
            return
        text = data.get("message")
        if text is not None and not isinstance(text, str):
            logger.warning("Ignored a message from socket.io client %s: its text is not a string.", sid)
            return
        sender_id = await self._sender_id(sid, data)
        if sender_id is None:
            logger.warning(
                "Ignored a message from socket.io client %s without a valid session_id; the client "
                "must send one, or a session_request first.",
                sid,
            )
            return

        output_channel = SocketIOOutput(self.sio, self.channel.bot_message_evt, self.namespace)
        reply = guard_message(text, self.channel.max_message_chars)
        ip = (await self.sio.get_session(sid, namespace=self.namespace)).get("ip")
        decision = await check_chat(sender_id, ip, self.channel.rate_per_minute, self.channel.limiter)
        if not decision.allowed:
            reply = RATE_LIMITED_REPLY.format(seconds=decision.retry_after)
        if reply is not None:
            await output_channel.send_text_message(sender_id, reply)
            return
        message = UserMessage(
            text,
            output_channel,
            sender_id,
            input_channel=self.channel.name(),
            metadata=metadata_from(data.get(self.channel.metadata_key)),
        )
        await self.on_new_message(message)

    async def _sender_id(self, sid: str, data: dict[str, Any]) -> str | None:
        """The conversation a message belongs to: its session with persistence, else the socket."""
        if not self.channel.session_persistence:
            return sid
        session_id = session_id_from(data)
        if session_id is None:
            session = await self.sio.get_session(sid, namespace=self.namespace)
            session_id = session.get("session_id")
        if session_id is not None:
            await self._join_session(sid, session_id)
        return session_id

    async def _join_session(self, sid: str, session_id: str) -> None:
        """Moves the socket into the room of ``session_id``, where that session's replies are sent."""
        session = await self.sio.get_session(sid, namespace=self.namespace)
        previous = session.get("session_id")
        if previous is not None and previous != session_id:
            await self.sio.leave_room(sid, previous, namespace=self.namespace)
        await self.sio.enter_room(sid, session_id, namespace=self.namespace)
        if previous != session_id:
            await self.sio.save_session(sid, {**session, "session_id": session_id}, namespace=self.namespace)
