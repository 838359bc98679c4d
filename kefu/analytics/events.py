"""The project's analytics events and how they are derived from Rasa's conversation events.

One customer message (a *turn*) gives up to four events, all sharing the turn's id:

- ``question_asked``: the masked text, the intent and its confidence, the channel;
- ``answer_sent``: where the answer came from (``faq``, ``document``, ``none`` when the knowledge base
  had nothing, ``template`` for everything else), whether the knowledge base hit, the latency;
- ``fallback``: the assistant could not answer (``nlu_fallback`` or ``not_sure``);
- ``handoff``: the customer was handed over to a human.

Event ids are derived from the Rasa message id, so an event derived twice is still one event.
Nothing here imports Rasa: the input is the serialised events Rasa streams to its event broker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from kefu.security.masking import MASK, mask_address, mask_text

QUESTION_ASKED = "question_asked"
ANSWER_SENT = "answer_sent"
FALLBACK = "fallback"
HANDOFF = "handoff"
EVENT_TYPES = (QUESTION_ASKED, ANSWER_SENT, FALLBACK, HANDOFF)

KNOWLEDGE_ACTION = "action_answer_faq"
HANDOFF_ACTION = "action_request_human"
NOT_SURE_RESPONSE = "utter_faq_not_sure"
FALLBACK_INTENT = "nlu_fallback"
MAX_QUESTION_CHARS = 500

_NAMESPACE = uuid.UUID("6f1c2a52-9a43-4c0e-9a57-4b1d3c1f0a11")
# Digit runs that may be phone digits or other numbers a customer was asked for; order numbers
# (LT + 10 digits) are kept, they identify an order, not a person.
_ORDER_ID = re.compile(r"[LlＬｌ][TtＴｔ][\s\-]*(?:[0-9０-９][\s\-]*){9}[0-9０-９]")
_DIGITS = re.compile(r"[0-9０-９](?:[0-9０-９ \-]*[0-9０-９])?")
_ADDRESS_HINT = re.compile(r"[0-9０-９]+\s*(?:号|栋|幢|单元|室|楼|弄)|[路街道巷]\s*[0-9０-９]")


def mask_question(text: str) -> str:
    """The customer's text fit for analytics: no phone numbers, digits, tokens, e-mails or addresses."""
    text = mask_text(text.strip())
    if _ADDRESS_HINT.search(text):
        return mask_address(text)
    kept = _ORDER_ID.findall(text)
    parts = [_DIGITS.sub(_mask_long_digits, part) for part in _ORDER_ID.split(text)]
    text = "".join(part + (kept[i] if i < len(kept) else "") for i, part in enumerate(parts))
    return text[:MAX_QUESTION_CHARS]


def _mask_long_digits(match: re.Match[str]) -> str:
    # Three digits or fewer (a quantity, "7天") say nothing about a person; longer runs may.
    return MASK if sum(c.isdigit() for c in match.group(0)) >= 4 else match.group(0)


def sender_hash(sender_id: str) -> str:
    """A pseudonymous, stable id of a conversation: its sender id hashed."""
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class AnalyticsEvent:
    """One analytics event; ``data`` holds the type's fields (see the module docstring)."""

    event_id: str
    event_type: str
    occurred_at: dt.datetime  # UTC, naive
    day: str  # YYYY-MM-DD in the shop's time zone
    sender: str  # sender_hash()
    turn_id: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "event_id": self.event_id,
                "event_type": self.event_type,
                "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
                "day": self.day,
                "sender": self.sender,
                "turn_id": self.turn_id,
                "data": self.data,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, body: str | bytes) -> AnalyticsEvent:
        """Parses :meth:`to_json` output; raises ValueError when it is not a valid event."""
        try:
            raw = json.loads(body)
            event = cls(
                event_id=str(uuid.UUID(raw["event_id"])),
                event_type=raw["event_type"],
                occurred_at=dt.datetime.fromisoformat(raw["occurred_at"]),
                day=str(dt.date.fromisoformat(raw["day"])),
                sender=str(raw["sender"]),
                turn_id=str(raw["turn_id"]),
                data=dict(raw.get("data") or {}),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an analytics event: {exc!r}") from exc
        if event.event_type not in EVENT_TYPES:
            raise ValueError(f"unknown analytics event type {event.event_type!r}")
        return event


def make_event(
    event_type: str, turn_id: str, sender: str, at: dt.datetime, timezone: str, data: dict[str, Any]
) -> AnalyticsEvent:
    """An event with its deterministic id (turn and type) and day (in ``timezone``)."""
    at_utc = at.astimezone(dt.timezone.utc) if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)
    return AnalyticsEvent(
        event_id=str(uuid.uuid5(_NAMESPACE, f"{turn_id}:{event_type}")),
        event_type=event_type,
        occurred_at=at_utc.replace(tzinfo=None),
        day=at_utc.astimezone(ZoneInfo(timezone)).date().isoformat(),
        sender=sender,
        turn_id=turn_id,
        data=data,
    )


@dataclass
class _Turn:
    turn_id: str
    sender: str
    started: float
    intent: str | None
    last: float
    answered: float | None = None
    actions: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    source: dict[str, Any] | None = None


class TurnAnalyser:
    """Follows Rasa's event stream, conversation by conversation, and derives analytics events.

    A turn begins with a ``user`` event and ends with the next ``action_listen``; feed every event
    of the stream, in order, to :meth:`feed`.
    """

    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self.timezone = timezone
        self._open: dict[str, _Turn] = {}

    def feed(self, event: Mapping[str, Any]) -> list[AnalyticsEvent]:
        """The analytics events that ``event`` (a serialised Rasa event with ``sender_id``) completes."""
        sender_id = str(event.get("sender_id") or "")
        kind = event.get("event")
        timestamp = float(event.get("timestamp") or 0.0)
        if kind == "user":
            finished = self._finish(sender_id, timestamp)
            return finished + self._start(sender_id, event, timestamp)
        turn = self._open.get(sender_id)
        if turn is None:
            return []
        turn.last = max(turn.last, timestamp)
        if kind == "action":
            name = str(event.get("name") or "")
            if name == "action_listen":
                return self._finish(sender_id, timestamp)
            turn.actions.append(name)
        elif kind == "bot":
            turn.answered = timestamp
            metadata = event.get("metadata") or {}
            turn.responses.append(str(metadata.get("utter_action") or ""))
            custom = (event.get("data") or {}).get("custom") or {}
            if isinstance(custom, Mapping) and isinstance(custom.get("source"), Mapping):
                turn.source = dict(custom["source"])
        return []

    def _start(self, sender_id: str, event: Mapping[str, Any], timestamp: float) -> list[AnalyticsEvent]:
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        message_id = str(event.get("message_id") or uuid.uuid4().hex)
        turn = _Turn(
            turn_id=str(uuid.uuid5(_NAMESPACE, f"{sender_id}:{message_id}")),
            sender=sender_hash(sender_id),
            started=timestamp,
            intent=intent.get("name"),
            last=timestamp,
        )
        self._open[sender_id] = turn
        confidence = intent.get("confidence")
        data = {
            "question": mask_question(str(event.get("text") or "")),
            "intent": turn.intent,
            "confidence": None if confidence is None else round(float(confidence), 4),
            "channel": event.get("input_channel"),
        }
        return [self._event(QUESTION_ASKED, turn, timestamp, data)]

    def _finish(self, sender_id: str, timestamp: float) -> list[AnalyticsEvent]:
        turn = self._open.pop(sender_id, None)
        if turn is None:
            return []
        # Latency: until the last reply, or the end of the turn when there was none.
        end = turn.answered if turn.answered is not None else max(turn.last, timestamp)
        asked = KNOWLEDGE_ACTION in turn.actions
        not_sure = NOT_SURE_RESPONSE in turn.responses
        if turn.source is not None:
            source_type, source_id = str(turn.source.get("type")), str(turn.source.get("id"))
        elif asked:
            source_type, source_id = "none", None
        else:
            source_type, source_id = "template", next((a for a in reversed(turn.actions)), None)
        answer = {
            "source_type": source_type,
            "source_id": source_id,
            "faq_hit": (turn.source is not None and not not_sure) if asked else None,
            "latency_ms": max(0, round((end - turn.started) * 1000)),
            "intent": turn.intent,
        }
        events = [self._event(ANSWER_SENT, turn, end, answer)]
        if turn.intent == FALLBACK_INTENT or (asked and not answer["faq_hit"]):
            reason = FALLBACK_INTENT if turn.intent == FALLBACK_INTENT else "not_sure"
            events.append(self._event(FALLBACK, turn, end, {"reason": reason, "intent": turn.intent}))
        if HANDOFF_ACTION in turn.actions:
            events.append(self._event(HANDOFF, turn, end, {"intent": turn.intent}))
        return events

    def _event(self, kind: str, turn: _Turn, timestamp: float, data: dict[str, Any]) -> AnalyticsEvent:
        at = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)
        return make_event(kind, turn.turn_id, turn.sender, at, self.timezone, data)
