"""The REST channel (``POST /webhooks/rest/webhook``) with bad requests answered by HTTP 400.

Rasa 3.6's own channel answers a body that is empty or not a JSON object with a 500, files a
message without ``sender`` under the shared conversation "default", and swallows a non-string
``message`` into an empty 200. This one answers every malformed request with 400 and
``{"error": "<中文说明> <English explanation>"}`` (413 for a body over ``MAX_BODY_BYTES`` or
metadata over ``MAX_METADATA_BYTES``), and answers empty or overlong messages politely without
asking the assistant.

A conversation belongs to the client that started it (:mod:`kefu.security.conversation_access`):
the first message to a new sender id opens it and its reply carries the conversation key in the
``X-Conversation-Key`` header; later messages and ``GET /messages`` must send that header back (or,
for a conversation opened with a customer token, a valid token of the same customer), else 401/403.

credentials.yml::

    kefu.channels.rest.RestInput: {}
"""

from __future__ import annotations

import json
import logging
from asyncio import CancelledError
from dataclasses import dataclass, replace
from typing import Any

from rasa.core.channels import rest as rasa_rest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from kefu.channels.access import key_headers, tracker_exists
from kefu.channels.http import OnNewMessage, add_health_route
from kefu.channels.message_guard import (
    FAILURE_REPLY,
    MetadataRefused,
    client_metadata,
    encodable,
    guard_message,
    message_limit,
)
from kefu.security.conversation_access import (
    KEY_HEADER,
    Admission,
    OwnerRegistry,
    admit,
    admit_read,
    get_owner_registry,
)
from kefu.security.ratelimit import RATE_LIMITED_REPLY, RateLimiter, check_chat, client_ip, get_rate_limiter
from kefu.security.tokens import customer_of
from kefu.security.verification import CLIENT_IP_KEY
from kefu.settings import get_settings

logger = logging.getLogger(__name__)

# Rasa's SQL tracker store keeps sender ids in a VARCHAR(255).
MAX_SENDER_CHARS = 255


class BadRestRequest(ValueError):
    """The request body can't be handed to the assistant; the message explains why in both languages."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RestMessage:
    """A well-formed request to the REST webhook."""

    sender_id: str
    text: str
    input_channel: str
    metadata: dict[str, Any] | None = None


def parse_rest_body(
    body: bytes, default_input_channel: str, max_body_bytes: int = 64 * 1024, max_metadata_bytes: int = 8192
) -> RestMessage:
    """The message in a webhook request body, its metadata without the reserved keys; raises
    :class:`BadRestRequest` when it is malformed or too large."""
    if len(body) > max_body_bytes:
        raise BadRestRequest(
            f"请求体超过 {max_body_bytes} 字节。 The request body is larger than {max_body_bytes} bytes "
            "(MAX_BODY_BYTES).",
            413,
        )
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadRestRequest("请求体不是合法的 JSON。 The request body is not valid JSON.") from exc
    if not isinstance(payload, dict):
        raise BadRestRequest(
            '请求体必须是 JSON 对象，例如 {"sender": "user-1", "message": "你好"}。 '
            'The request body must be a JSON object such as {"sender": "user-1", "message": "hi"}.'
        )
    sender = payload.get("sender")
    if (
        not isinstance(sender, str)
        or not sender.strip()
        or len(sender) > MAX_SENDER_CHARS
        or not encodable(sender)
    ):
        raise BadRestRequest(
            f"sender 字段必须是不超过 {MAX_SENDER_CHARS} 个字符的非空字符串。 "
            f'The field "sender" is required and must be a non-empty string of at most '
            f"{MAX_SENDER_CHARS} characters."
        )
    text = payload.get("message")
    if not isinstance(text, str):
        raise BadRestRequest(
            'message 字段必须是字符串。 The field "message" is required and must be a string.'
        )
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRestRequest(
            'metadata 字段必须是 JSON 对象。 The field "metadata", when given, must be a JSON object.'
        )
    input_channel = payload.get("input_channel")
    if input_channel is not None and not isinstance(input_channel, str):
        raise BadRestRequest(
            'input_channel 字段必须是字符串。 The field "input_channel", when given, must be a string.'
        )
    try:
        metadata = None if metadata is None else client_metadata(metadata, max_metadata_bytes)
    except MetadataRefused as error:
        raise BadRestRequest(str(error), error.status) from error
    return RestMessage(sender, text, input_channel or default_input_channel, metadata)


class RestInput(rasa_rest.RestInput):
    """Rasa's REST input channel with malformed requests rejected and customer text checked."""

    def __init__(
        self,
        max_message_chars: int | None = None,
        rate_per_minute: int | None = None,
        limiter: RateLimiter | None = None,
        owners: OwnerRegistry | None = None,
    ) -> None:
        settings = get_settings()
        self.max_message_chars = message_limit(max_message_chars, settings.max_message_chars)
        self.rate_per_minute = settings.chat_rate_per_minute if rate_per_minute is None else rate_per_minute
        self.limiter = limiter or get_rate_limiter()
        self.owners = owners or get_owner_registry()  # who owns each conversation
        self.max_body_bytes = settings.max_body_bytes
        self.max_metadata_bytes = settings.max_metadata_bytes
        self.settings = settings

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The webhook routes: ``GET /`` health check and ``POST /webhook`` (``?stream=true`` to stream)."""
        webhook = Blueprint("kefu_rest_webhook")

        add_health_route(webhook)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse | ResponseStream:
            try:
                message = parse_rest_body(
                    request.body, self.name(), self.max_body_bytes, self.max_metadata_bytes
                )
            except BadRestRequest as error:
                return response.json({"error": str(error)}, status=error.status)
            stream = bool_arg(request, "stream", default=False)
            decision = await check_chat(
                message.sender_id, client_ip(request), self.rate_per_minute, self.limiter
            )
            if not decision.allowed:
                return response.json(
                    {
                        "error": RATE_LIMITED_REPLY.format(seconds=decision.retry_after)
                        + " Too many messages."
                    },
                    status=429,
                    headers={"Retry-After": str(decision.retry_after)},
                )

            customer = customer_of((message.metadata or {}).get("user_token"), self.settings)
            admission = await admit(
                self.owners,
                message.sender_id,
                self.name(),
                request.headers.get(KEY_HEADER),
                customer,
                tracker_exists(request.app),
            )
            if not admission.allowed:
                return _refused(admission)
            headers = key_headers(admission)
            reply = guard_message(message.text, self.max_message_chars)
            if reply is not None:
                return _single_reply(message.sender_id, reply, stream, headers)
            # The customer's address, for the verification lock-out; a client's own value is replaced.
            message = replace(
                message, metadata={**(message.metadata or {}), CLIENT_IP_KEY: client_ip(request)}
            )
            if stream:
                return response.stream(
                    self.stream_response(
                        on_new_message,
                        message.text,
                        message.sender_id,
                        message.input_channel,
                        message.metadata,
                    ),
                    content_type="text/event-stream",
                    headers=headers,
                )
            return response.json(await self._collect_replies(on_new_message, message), headers=headers)

        @webhook.route("/messages", methods=["GET"])
        async def messages(request: Request) -> HTTPResponse:
            """The bot's and agents' messages to ``sender`` after ``since`` (a Unix time): how a REST
            client receives what a human agent sends while holding the conversation. Needs the
            ``X-Conversation-Key`` header, or ``Authorization: Bearer <customer token>`` for a
            conversation opened with that customer's token."""
            sender = request.args.get("sender")
            try:
                since = float(request.args.get("since") or 0)
            except ValueError:
                since = -1.0
            if (
                not isinstance(sender, str)
                or not sender.strip()
                or len(sender) > MAX_SENDER_CHARS
                or since < 0
            ):
                return response.json(
                    {"error": "需要 sender 和 since 参数。 Give ?sender=<id>&since=<unix time>."}, status=400
                )
            customer = customer_of(_bearer(request), self.settings)
            admission = await admit_read(self.owners, sender, request.headers.get(KEY_HEADER), customer)
            if not admission.allowed:
                return _refused(admission)
            agent = getattr(request.app.ctx, "agent", None)
            tracker = await agent.tracker_store.retrieve(sender) if agent is not None else None
            found = [
                {
                    "recipient_id": sender,
                    "text": event.text,
                    "timestamp": event.timestamp,
                    **({"agent": event.metadata["agent"]} if (event.metadata or {}).get("agent") else {}),
                }
                for event in (tracker.events if tracker else [])
                if isinstance(event, BotUttered) and event.text and event.timestamp > since
            ]
            return response.json(found)

        return webhook

    async def _collect_replies(self, on_new_message: OnNewMessage, message: RestMessage) -> list[Any]:
        """The assistant's replies; failures are logged and answered with what was collected, as Rasa does."""
        collector = CollectingOutputChannel()
        try:
            await on_new_message(
                UserMessage(
                    message.text,
                    collector,
                    message.sender_id,
                    input_channel=message.input_channel,
                    metadata=message.metadata,
                )
            )
        except CancelledError:
            logger.error("Timed out handling a REST message from %s.", message.sender_id)
        except Exception:
            logger.exception("Failed to handle a REST message from %s.", message.sender_id)
        else:
            return collector.messages
        # The customer never gets silence: an apology when the failure left nothing to send.
        return collector.messages or [{"recipient_id": message.sender_id, "text": FAILURE_REPLY}]


def _single_reply(
    sender_id: str, text: str, stream: bool, headers: dict[str, str] | None = None
) -> HTTPResponse | ResponseStream:
    """One bot message, shaped as the webhook's usual JSON list or as a one-line stream."""
    message = {"recipient_id": sender_id, "text": text}
    if not stream:
        return response.json([message], headers=headers)

    async def write(resp: Any) -> None:
        await resp.write(json.dumps(message) + "\n")

    return response.stream(write, content_type="text/event-stream", headers=headers)


def _refused(admission: Admission) -> HTTPResponse:
    return response.json({"error": admission.error}, status=admission.status)


def _bearer(request: Request) -> str | None:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
