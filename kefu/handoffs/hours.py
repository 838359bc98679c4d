"""Human agents' working hours, and when the assistant should offer one without being asked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The bot's replies that mean it could not answer the customer's message.
FAILURE_RESPONSES = frozenset({"utter_out_of_scope", "utter_faq_not_sure", "utter_default"})
# After this many unanswered customer messages in a row, a human is offered and the request queued.
FAILURES_BEFORE_HANDOFF = 2


@dataclass(frozen=True)
class AgentHours:
    """Agents are online every day from ``start`` (inclusive) to ``end`` (exclusive), local time."""

    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(21, 0)

    def is_open(self, now: dt.datetime) -> bool:
        return self.start <= now.time() < self.end

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """When agents are next online (``now`` itself if they are)."""
        if self.is_open(now):
            return now
        opening = now.replace(hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0)
        return opening if now.time() < self.start else opening + dt.timedelta(days=1)

    def describe(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def failures_before_latest(events: Iterable[Mapping[str, Any]]) -> int:
    """How many customer messages in a row, just before the latest one, the assistant could not answer.

    ``events`` are a conversation's events as dicts (rasa-sdk's ``tracker.events``). A message counts
    as unanswered when a reply to it was one of :data:`FAILURE_RESPONSES` (by the ``utter_action``
    Rasa records with each bot message); a new session or a restart starts the count afresh.
    """
    failed: list[bool] = []  # one per customer message, in order
    for event in events:
        kind = event.get("event")
        if kind in ("restart", "session_started"):
            failed = []
        elif kind == "user":
            failed.append(False)
        elif kind == "bot" and failed:
            metadata = event.get("metadata")
            if isinstance(metadata, Mapping) and metadata.get("utter_action") in FAILURE_RESPONSES:
                failed[-1] = True
    count = 0
    for was_failure in reversed(failed[:-1]):  # the latest message is the one being answered now
        if not was_failure:
            break
        count += 1
    return count
