"""WeChat's callback protocol: signatures, safe-mode message crypto and XML in and out.

The crypto and message classes are wechatpy's. XML is parsed here first, defensively: WeChat never
sends a document type, so any ``<!DOCTYPE``/``<!ENTITY`` is refused before a parser sees it (no
entity expansion, no external entity), and bodies are capped at :data:`MAX_BODY_BYTES`.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WecomCrypto
from wechatpy.messages import BaseMessage
from wechatpy.parser import parse_message
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

MAX_BODY_BYTES = 64 * 1024
# A callback signed longer ago than this (or this far in the future) is refused as a replay.
MAX_AGE_SECONDS = 300
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)


class BadCallback(ValueError):
    """A callback that can't be read; the message says why (for the log)."""


class Unsigned(BadCallback):
    """A callback without a valid, recent signature: not WeChat's, or replayed."""


def signature(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """WeChat's SHA-1 signature of the sorted token, timestamp, nonce (and ``Encrypt``/``echostr``)."""
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce, *extra)
    return signer.signature


def parse_xml(body: bytes | str) -> dict[str, Any]:
    """The fields of a WeChat XML document (``<xml>...</xml>``); raises :class:`BadCallback`."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        raise BadCallback(f"body over {MAX_BODY_BYTES} bytes")
    if _DECLARATION.search(raw):
        raise BadCallback("XML with a document type or entity declaration")
    try:
        document = xmltodict.parse(raw, disable_entities=True)
    except Exception as exc:  # expat errors, forbidden entities, bad encodings
        raise BadCallback(f"malformed XML ({type(exc).__name__})") from exc
    fields = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(fields, dict):
        raise BadCallback("no <xml> root element")
    return fields


def parse_message_xml(xml: str, required: tuple[str, ...] = ("MsgType",)) -> BaseMessage:
    """wechatpy's message or event for a decrypted callback; raises :class:`BadCallback`."""
    fields = parse_xml(xml)
    for name in required:
        if not isinstance(fields.get(name), str) or not fields[name].strip():
            raise BadCallback(f"{name} missing or not text")
    try:
        message = parse_message(xml)
        _ = message.time, message.id  # integer fields, converted on access
    except (KeyError, AttributeError, TypeError, ValueError, OverflowError) as exc:
        raise BadCallback(f"unreadable message ({type(exc).__name__})") from exc
    return message


def field(message: BaseMessage, name: str) -> str:
    """A message field as text ('' when absent or not text)."""
    value = message._data.get(name)
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class CallbackCodec:
    """Checks, decrypts and encrypts one account's callbacks.

    ``app_id`` is the 公众号's AppID or the WeCom CorpID; an empty ``aes_key`` is plain mode (公众号
    only: WeCom always encrypts).
    """

    token: str
    aes_key: str
    app_id: str
    wecom: bool = False

    @property
    def _required(self) -> tuple[str, ...]:
        # WeCom's kf_msg_or_event names no sender: the messages are fetched with sync_msg.
        return ("MsgType",) if self.wecom else ("MsgType", "FromUserName", "ToUserName")

    def _crypto(self) -> Any:
        kind = WecomCrypto if self.wecom else WeChatCrypto
        return kind(self.token, self.aes_key, self.app_id)

    def _fresh(self, params: Mapping[str, str], now: float | None) -> tuple[str, str]:
        timestamp, nonce = params.get("timestamp") or "", params.get("nonce") or ""
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not nonce:
            raise Unsigned("timestamp or nonce missing")
        if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_SECONDS:
            raise Unsigned("stale timestamp")
        return timestamp, nonce

    def _check(self, given: str | None, *parts: str) -> None:
        if not given or not hmac.compare_digest(given, signature(self.token, *parts)):
            raise Unsigned("wrong signature")

    def echo(self, params: Mapping[str, str], now: float | None = None) -> str:
        """The answer to the server-configuration handshake (GET with ``echostr``)."""
        timestamp, nonce = self._fresh(params, now)
        echostr = params.get("echostr") or ""
        if not echostr:
            raise BadCallback("echostr missing")
        if not self.wecom:
            self._check(params.get("signature"), timestamp, nonce)
            return echostr
        self._check(params.get("msg_signature"), timestamp, nonce, echostr)
        try:
            return str(self._crypto().check_signature(params["msg_signature"], timestamp, nonce, echostr))
        except Exception as exc:
            raise BadCallback(f"echostr does not decrypt ({type(exc).__name__})") from exc

    def decode(self, params: Mapping[str, str], body: bytes, now: float | None = None) -> BaseMessage:
        """The message of a signed POST callback; raises :class:`BadCallback`."""
        timestamp, nonce = self._fresh(params, now)
        if not self.wecom:
            self._check(params.get("signature"), timestamp, nonce)
        outer = parse_xml(body)
        encrypted = outer.get("Encrypt")
        if not self.aes_key:
            if encrypted is not None:
                raise BadCallback("encrypted message but WECHAT_MP_AES_KEY is empty")
            return parse_message_xml(body.decode("utf-8", "replace"), self._required)
        if not isinstance(encrypted, str) or not encrypted:
            raise BadCallback("no Encrypt element in safe mode")
        self._check(params.get("msg_signature"), timestamp, nonce, encrypted)
        try:
            inner = self._crypto().decrypt_message(
                {"Encrypt": encrypted}, params["msg_signature"], timestamp, nonce
            )
        except Exception as exc:  # wrong key, wrong app id, bad padding or base64
            raise BadCallback(f"message does not decrypt ({type(exc).__name__})") from exc
        return parse_message_xml(inner, self._required)

    def reply(self, message: BaseMessage, text: str, nonce: str, now: int | None = None) -> str:
        """The passive text reply to ``message``, encrypted in safe mode."""
        timestamp = int(time.time() if now is None else now)
        xml = TextReply(message=message, content=text, time=timestamp).render()
        if not self.aes_key:
            return xml
        return self._crypto().encrypt_message(xml, nonce, str(timestamp))
