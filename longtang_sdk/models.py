"""What the assistant answers: sessions, bot messages and the result of one message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _float(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


@dataclass(frozen=True)
class Session:
    """A conversation with the assistant (a Rasa conversation: ``id`` is its sender id)."""

    id: str
    user_id: str | None = None
    channel: str = "api"
    context: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Session:
        context = data.get("context")
        return cls(
            id=str(data["session_id"]),
            user_id=_str_or_none(data.get("user_id")),
            channel=_str_or_none(data.get("channel")) or "api",
            context=dict(context) if isinstance(context, Mapping) else {},
            created_at=_str_or_none(data.get("created_at")),
        )


@dataclass(frozen=True)
class Button:
    """A quick reply offered by the assistant: show ``title``, send ``payload`` back when chosen."""

    title: str
    payload: str

    @classmethod
    def from_json(cls, data: Any) -> Button | None:
        if not isinstance(data, Mapping):
            return None
        title, payload = data.get("title"), data.get("payload")
        if not isinstance(title, str) or not isinstance(payload, str):
            return None
        return cls(title, payload)


@dataclass(frozen=True)
class BotMessage:
    """One message of the assistant's reply; ``raw`` keeps everything the assistant sent."""

    text: str | None = None
    buttons: tuple[Button, ...] = ()
    image: str | None = None
    custom: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BotMessage:
        buttons = [Button.from_json(b) for b in data.get("buttons") or [] if b]
        custom = data.get("custom")
        return cls(
            text=_str_or_none(data.get("text")),
            buttons=tuple(b for b in buttons if b is not None),
            image=_str_or_none(data.get("image")),
            custom=dict(custom) if isinstance(custom, Mapping) else None,
            raw=dict(data),
        )


@dataclass(frozen=True)
class Intent:
    """The intent the assistant recognised, with the classifier's confidence (0 to 1)."""

    name: str | None
    confidence: float

    @classmethod
    def from_json(cls, data: Any) -> Intent | None:
        if not isinstance(data, Mapping):
            return None
        return cls(_str_or_none(data.get("name")), _float(data.get("confidence")))


@dataclass(frozen=True)
class Source:
    """Where an answer came from: a FAQ entry or a document of the shop's knowledge base."""

    type: str
    id: str
    title: str
    score: float | None = None

    @classmethod
    def from_json(cls, data: Any) -> Source | None:
        if not isinstance(data, Mapping):
            return None
        score = data.get("score")
        return cls(
            type=str(data.get("type") or ""),
            id=str(data.get("id") or ""),
            title=str(data.get("title") or ""),
            score=_float(score) if score is not None else None,
        )


@dataclass(frozen=True)
class Entity:
    """A piece of information found in the customer's message, e.g. ``order_id``."""

    entity: str
    value: Any

    @classmethod
    def from_json(cls, data: Any) -> Entity | None:
        if not isinstance(data, Mapping) or not isinstance(data.get("entity"), str):
            return None
        return cls(data["entity"], data.get("value"))


@dataclass(frozen=True)
class MessageResponse:
    """The assistant's answer to one customer message.

    ``messages`` are the bot's messages in order; ``intent`` what it recognised (``nlu_fallback``
    when unsure, None when the message never reached the NLU, e.g. an empty text); ``source``
    where an answer from the knowledge base came from (None for other answers).
    """

    session_id: str
    message_id: str | None
    messages: tuple[BotMessage, ...]
    intent: Intent | None
    source: Source | None
    entities: tuple[Entity, ...] = ()
    replayed: bool = False
    """True when the assistant had already handled this ``message_id`` and answered from the record."""

    @property
    def texts(self) -> list[str]:
        """The texts of the reply's messages, in order."""
        return [m.text for m in self.messages if m.text]

    @property
    def text(self) -> str:
        """The reply's texts joined by newlines ("" when the assistant said nothing)."""
        return "\n".join(self.texts)

    @property
    def buttons(self) -> list[Button]:
        """Every quick reply the reply offers, in order."""
        return [b for m in self.messages for b in m.buttons]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MessageResponse:
        entities = [Entity.from_json(e) for e in data.get("entities") or []]
        return cls(
            session_id=str(data.get("session_id") or ""),
            message_id=_str_or_none(data.get("message_id")),
            messages=tuple(
                BotMessage.from_json(m) for m in data.get("messages") or [] if isinstance(m, Mapping)
            ),
            intent=Intent.from_json(data.get("intent")),
            source=Source.from_json(data.get("source")),
            entities=tuple(e for e in entities if e is not None),
            replayed=data.get("replayed") is True,
        )
