"""The socket.io channel's side of each event: payload checks, sessions, and the replies' output.

Every handler checks its payload instead of trusting it and never raises. With session persistence
a socket joins a session's room only when it proves the session is its own
(:mod:`kefu.security.conversation_access`); see :mod:`kefu.channels.socketio`.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING, Any, Protocol

import jwt
from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import UserMessage, decode_jwt
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError as SocketIORefused

from kefu.channels.access import Exists
from kefu.channels.http import OnNewMessage
from kefu.channels.message_guard import (
    FAILURE_REPLY,
    MetadataRefused,
    client_metadata,
    encodable,
    guard_message,
)
from kefu.security.conversation_access import admit
from kefu.security.ratelimit import RATE_LIMITED_REPLY, check_chat, client_ip
from kefu.security.tokens import customer_of
from kefu.security.verification import CLIENT_IP_KEY

if TYPE_CHECKING:
    from kefu.security.conversation_access import OwnerRegistry
    from kefu.security.ratelimit import RateLimiter
    from kefu.settings import Settings

logger = logging.getLogger(__name__)


# Rasa's SQL tracker store keeps sender ids in a VARCHAR(255).
MAX_SESSION_ID_CHARS = 255

# Keyword arguments of AsyncServer.emit() that a custom payload may carry (Rasa's convention).
_EMIT_ARGUMENTS = frozenset({"data", "to", "room", "skip_sid", "namespace"})


SESSION_REFUSED_REPLY = "抱歉，这个会话已经无法继续了，请刷新页面开始新的对话～"
METADATA_REFUSED_REPLY = "抱歉，您的消息附带的信息太多了，没能发送成功，请稍后再试一次～"


def session_id_from(data: Any) -> str | None:
    """The usable ``session_id`` in an event's data, or None when it is missing or malformed."""
    value = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(value, str) and value.strip() and len(value) <= MAX_SESSION_ID_CHARS and encodable(value):
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


class SocketIOChannel(Protocol):
    """What the event handlers read of their channel (:class:`kefu.channels.socketio.SocketIOInput`)."""

    namespace: str | None
    bot_message_evt: str
    session_persistence: bool
    metadata_key: str | None
    jwt_key: str | None
    jwt_algorithm: str | None
    max_message_chars: int
    max_metadata_bytes: int
    rate_per_minute: int
    connect_rate_per_minute: int
    limiter: RateLimiter
    owners: OwnerRegistry
    settings: Settings

    def name(self) -> str: ...


class SocketIOEvents:
    """The socket.io event handlers of one blueprint; no client payload can make them raise."""

    def __init__(
        self,
        channel: SocketIOChannel,
        sio: AsyncServer,
        on_new_message: OnNewMessage,
        exists: Exists | None = None,
    ) -> None:
        self.channel = channel
        self.sio = sio
        self.on_new_message = on_new_message
        # Whether a conversation is already in the tracker store (set when the server starts).
        self.exists: Exists = exists or _nothing_exists

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
        """Confirms the client's session id when it may use it, else a new one (also when it sent
        none or a malformed one)."""
        try:
            requested = session_id_from(data)
            session_id = requested or uuid.uuid4().hex
            if self.channel.session_persistence:
                joined = requested is not None and await self._prove(sid, requested, data)
                if not joined:
                    session_id = uuid.uuid4().hex
                    await self._prove(sid, session_id, {})
            await self.sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
        except Exception:
            logger.exception("Failed to handle the session request of socket.io client %s.", sid)

    async def _prove(self, sid: str, session_id: str, data: dict[str, Any]) -> bool:
        """Joins ``session_id`` when this client owns it (or opens it when nobody does, sending the
        new key in a ``session_key`` event); False when it may not."""
        key = data.get("session_key")
        admission = await admit(
            self.channel.owners,
            session_id,
            self.channel.name(),
            key if isinstance(key, str) else None,
            self._customer(data),
            self.exists,
        )
        if not admission.allowed:
            logger.info(
                "Socket.io client %s may not join session %s (%s).", sid, session_id, admission.status
            )
            return False
        await self._join_session(sid, session_id)
        if admission.issued_key is not None:
            await self.sio.emit(
                "session_key",
                {"session_id": session_id, "session_key": admission.issued_key},
                room=sid,
                namespace=self.namespace,
            )
        return True

    def _customer(self, data: dict[str, Any]) -> str | None:
        """The customer id of the valid token in the event (``user_token``, or in its metadata)."""
        token = data.get("user_token")
        if token is None:
            metadata = data.get(self.channel.metadata_key or "metadata")
            token = metadata.get("user_token") if isinstance(metadata, dict) else None
        return customer_of(token, self.channel.settings)

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
            return
        output_channel = SocketIOOutput(self.sio, self.channel.bot_message_evt, self.namespace)
        try:
            metadata = client_metadata(
                metadata_from(data.get(self.channel.metadata_key)), self.channel.max_metadata_bytes
            )
        except MetadataRefused as error:
            logger.warning("Refused the metadata of socket.io client %s: %s", sid, error)
            await output_channel.send_text_message(sender_id, METADATA_REFUSED_REPLY)
            return
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
            metadata={**metadata, CLIENT_IP_KEY: ip} if ip else metadata,
        )
        await self.on_new_message(message)

    async def _sender_id(self, sid: str, data: dict[str, Any]) -> str | None:
        """The conversation a message belongs to: with persistence the session this socket joined
        (a message naming another one must prove it), else the socket; None when there is none."""
        if not self.channel.session_persistence:
            return sid
        joined = (await self.sio.get_session(sid, namespace=self.namespace)).get("session_id")
        requested = session_id_from(data)
        if requested is None or requested == joined:
            if joined is None:
                logger.warning(
                    "Ignored a message from socket.io client %s without a valid session_id; the "
                    "client must send one, or a session_request first.",
                    sid,
                )
            return joined
        if await self._prove(sid, requested, data):
            return requested
        await self.sio.emit(
            self.channel.bot_message_evt, {"text": SESSION_REFUSED_REPLY}, room=sid, namespace=self.namespace
        )
        return None

    async def _join_session(self, sid: str, session_id: str) -> None:
        """Moves the socket into the room of ``session_id``, where that session's replies are sent."""
        session = await self.sio.get_session(sid, namespace=self.namespace)
        previous = session.get("session_id")
        if previous is not None and previous != session_id:
            await self.sio.leave_room(sid, previous, namespace=self.namespace)
        await self.sio.enter_room(sid, session_id, namespace=self.namespace)
        if previous != session_id:
            await self.sio.save_session(sid, {**session, "session_id": session_id}, namespace=self.namespace)


async def _nothing_exists(_: str) -> bool:
    return False
