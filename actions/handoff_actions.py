"""Handing the conversation over to a human agent: on request, or when the bot failed twice in a row."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.customer import logged_in_user
from kefu.db.handoffs import HandoffRepository
from kefu.handoffs.desk import transcript_from_events
from kefu.handoffs.hours import FAILURES_BEFORE_HANDOFF, AgentHours, failures_before_latest
from kefu.settings import get_settings

logger = logging.getLogger(__name__)

# The handoff record's reason when the customer did not ask: the bot could not answer twice in a row.
REASON_BOT_FAILED = "bot_failed_twice"


class HandoffOffer:
    """Queues a handoff request with the transcript (once per conversation while one is open) and
    tells the customer an agent is coming, or when agents are back outside working hours."""

    def __init__(
        self,
        clock: Callable[[], dt.datetime] | None = None,
        hours: AgentHours | None = None,
        handoffs: HandoffRepository | None = None,
    ) -> None:
        self._clock = clock or (lambda: get_settings().now())
        self._hours = hours or AgentHours()
        self._handoffs = handoffs

    def _record(self, tracker: Tracker, reason: str, outside_hours: bool) -> None:
        handoffs = self._handoffs or HandoffRepository()
        if handoffs.open_for_sender(tracker.sender_id) is not None:
            return
        handoffs.create(
            tracker.sender_id,
            reason=reason,
            transcript=transcript_from_events(tracker.events),
            user_id=logged_in_user(tracker),
            outside_hours=outside_hours,
        )

    def offer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        reason: str,
        now_response: str,
        closed_response: str,
    ) -> None:
        """Records the request and utters ``now_response``, or ``closed_response`` outside the hours."""
        now = self._clock()
        is_open = self._hours.is_open(now)
        try:
            self._record(tracker, reason, outside_hours=not is_open)
        except Exception:  # the customer still gets an answer; the queue's outage is logged
            logger.exception("Could not record the handoff request of %s.", tracker.sender_id)
        if is_open:
            dispatcher.utter_message(response=now_response, hours=self._hours.describe())
        else:
            back = self._hours.next_opening(now)
            day = "今天" if back.date() == now.date() else "明天"
            dispatcher.utter_message(
                response=closed_response, hours=self._hours.describe(), back=f"{day}{back:%H:%M}"
            )

    def after_failure(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        """When the customer's previous message went unanswered too, offers a human (and queues the
        request) instead of a second "I don't know"; True when it did."""
        if failures_before_latest(tracker.events) < FAILURES_BEFORE_HANDOFF - 1:
            return False
        self.offer(
            dispatcher,
            tracker,
            REASON_BOT_FAILED,
            "utter_handoff_after_failures",
            "utter_handoff_after_failures_closed",
        )
        return True


class ActionRequestHuman(Action):
    """The customer asked for a human (转人工)."""

    def __init__(self, offer: HandoffOffer | None = None) -> None:
        self._offer = offer or HandoffOffer()

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reason = (tracker.latest_message.get("intent") or {}).get("name") or "request_human"
        self._offer.offer(dispatcher, tracker, reason, "utter_handoff_now", "utter_handoff_closed")
        return []


class ActionOutOfScope(Action):
    """Says what the assistant can do; a human instead when the previous message went unanswered too."""

    def __init__(self, offer: HandoffOffer | None = None) -> None:
        self._offer = offer or HandoffOffer()

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if not await asyncio.to_thread(self._offer.after_failure, dispatcher, tracker):
            dispatcher.utter_message(response="utter_out_of_scope")
        return []
