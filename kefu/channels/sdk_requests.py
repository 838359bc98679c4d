"""What the SDK's API accepts: session and message bodies, and the API key of the calling application."""

from __future__ import annotations

import hmac
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sanic.request import Request

from kefu.channels.http import ApiError, json_object
from kefu.channels.message_guard import MetadataRefused, client_metadata

MAX_BODY_BYTES = 64 * 1024
MAX_METADATA_BYTES = 8 * 1024
MAX_CONTEXT_BYTES = 16 * 1024
MAX_FIELD_CHARS = 255
MAX_INTENT_FILTER = 50
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
DEVELOPMENT_APP = "development"


@dataclass(frozen=True)
class NewSession:
    """A well-formed ``POST /sessions`` body."""

    user_id: str | None = None
    channel: str = "api"
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewMessage:
    """A well-formed ``POST /sessions/<id>/messages`` body."""

    text: str
    message_id: str
    intent_filter: list[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _optional_text(payload: Mapping[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_FIELD_CHARS:
        raise ApiError(
            f"{key} 字段必须是不超过 {MAX_FIELD_CHARS} 个字符的非空字符串。 "
            f'The field "{key}", when given, must be a non-empty string of at most {MAX_FIELD_CHARS} '
            "characters."
        )
    return value


def _object(payload: Mapping[str, Any], key: str, max_bytes: int) -> dict[str, Any]:
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(f'{key} 字段必须是 JSON 对象。 The field "{key}", when given, must be a JSON object.')
    try:
        return client_metadata(value, max_bytes, key)
    except MetadataRefused as error:
        raise ApiError(
            str(error), error.status, "too_large" if error.status == 413 else "bad_request"
        ) from error


def parse_session_body(body: bytes, max_body_bytes: int = MAX_BODY_BYTES) -> NewSession:
    """The session a create request asks for; raises :class:`ApiError` when it is malformed."""
    payload = json_object(body, max_body_bytes, '{"user_id": "user_123", "channel": "web"}')
    return NewSession(
        user_id=_optional_text(payload, "user_id"),
        channel=_optional_text(payload, "channel") or "api",
        context=_object(payload, "context", MAX_CONTEXT_BYTES),
    )


def parse_message_body(
    body: bytes, max_body_bytes: int = MAX_BODY_BYTES, max_metadata_bytes: int = MAX_METADATA_BYTES
) -> NewMessage:
    """The message a send request carries, its metadata without the reserved keys; raises
    :class:`ApiError` when it is malformed or too large."""
    payload = json_object(body, max_body_bytes, '{"text": "你好"}')
    text = payload.get("text")
    if not isinstance(text, str):
        raise ApiError('text 字段必须是字符串。 The field "text" is required and must be a string.')
    intent_filter = payload.get("intent_filter")
    if intent_filter is not None and (
        not isinstance(intent_filter, list)
        or len(intent_filter) > MAX_INTENT_FILTER
        or not all(isinstance(i, str) and i.strip() for i in intent_filter)
    ):
        raise ApiError(
            f'intent_filter 必须是最多 {MAX_INTENT_FILTER} 个意图名的列表，例如 ["query_order"]。 '
            f'The field "intent_filter", when given, must be a list of at most {MAX_INTENT_FILTER} intent '
            'names such as ["query_order"].'
        )
    message_id = payload.get("message_id")
    if message_id is None:
        message_id = uuid.uuid4().hex
    elif not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
        raise ApiError(
            "message_id 必须是 1-64 个字母、数字或 _ . : - 。 "
            'The field "message_id", when given, must be 1-64 letters, digits or _ . : -.'
        )
    return NewMessage(
        text=text,
        message_id=message_id,
        intent_filter=intent_filter or None,
        metadata=_object(payload, "metadata", max_metadata_bytes),
    )


def api_key_of(request: Request) -> str | None:
    """The API key a request carries in ``Authorization: Bearer`` or ``X-API-Key``."""
    authorization = request.headers.get("Authorization") or ""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    key = request.headers.get("X-API-Key")
    return key.strip() if key and key.strip() else None


def application_of(key: str | None, keys: Mapping[str, str]) -> str:
    """The name of the application ``key`` belongs to; raises a 401 :class:`ApiError` otherwise.

    With no keys configured (development) every caller is the application ``"development"``.
    """
    if not keys:
        return DEVELOPMENT_APP
    if key:
        for known, app in keys.items():
            if hmac.compare_digest(key.encode("utf-8"), known.encode("utf-8")):
                return app
    raise ApiError(
        "缺少或无效的 API 密钥。 A valid API key is required: send it as `Authorization: Bearer <key>` "
        "or `X-API-Key: <key>`.",
        401,
        "unauthorized",
    )
