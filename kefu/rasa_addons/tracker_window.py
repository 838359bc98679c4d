"""Bounded conversation history for serving: the processor works on the latest turns only.

Rasa 3.6 rebuilds the whole conversation session on every message: it deserialises every event,
replays them, computes every policy's states over the whole history, sends all of it to the action
server, and serialises it all again to save. A turn's cost grows with the conversation (turn 150 of
one conversation took 4.6 times as long as turn 5). The policies only look at the last few turns
(``max_history`` 4-5, rules a few turns long), so the tracker the processor gets holds the latest
``TRACKER_WINDOW_EVENTS`` events, starting at a customer message, behind a short synthetic prefix
that restores the state at the cut: session start, slot values, active form (and whether it was
interrupted), a paused conversation. The stored record keeps every event: saving appends the turn's
new events to it, so transcripts, the admin API and ``retrieve_full_tracker`` see the whole history.

:class:`WindowedHistory` is a tracker store mixin; the stores say how to read and write the record.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    LoopInterrupted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

WINDOW_ATTRIBUTE = "_kefu_window"


@dataclass
class Window:
    """What a windowed tracker was made from: the stored record's event count and its own."""

    stored_events: int
    tracker_events: int


def session_start(events: list[Mapping[str, Any]]) -> int:
    """Index of the latest session's ``action_session_start`` (0 when the record has none)."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "action" and event.get("name") == ACTION_SESSION_START_NAME:
            return index
    return 0


@dataclass
class CutState:
    """The state at a cut: events that restore it after a session start, and the customer message
    that started the active form (Rasa keeps it as the form's trigger message)."""

    events: list[Event]
    loop_trigger: dict[str, Any] | None = None


def state_before(events: Iterable[Mapping[str, Any]]) -> CutState:
    """What recreates, after a session start, the state ``events`` leave a tracker in."""
    slots: dict[str, Any] = {}
    loop: str | None = None
    interrupted = paused = False
    latest_user: Mapping[str, Any] | None = None
    trigger: Mapping[str, Any] | None = None
    for event in events:
        kind = event.get("event")
        if kind == "slot":
            slots[event.get("name")] = event.get("value")
        elif kind == "user":
            latest_user = event
        elif kind in ("reset_slots", "restart", "session_started"):
            slots = {}
            if kind != "reset_slots":
                loop, interrupted, paused, trigger = None, False, False, None
        elif kind == "active_loop":
            loop, interrupted, trigger = event.get("name"), False, latest_user
        elif kind == "loop_interrupted":
            interrupted = bool(event.get("is_interrupted"))
        elif kind == "pause":
            paused = True
        elif kind == "resume":
            paused = False
    restored: list[Event] = [SlotSet(name, value) for name, value in slots.items() if name]
    if loop:
        restored.append(ActiveLoop(loop))
        if interrupted:
            restored.append(LoopInterrupted(True))
    if paused:
        restored.append(ConversationPaused())
    parse_data = UserUttered.from_parameters(dict(trigger)).parse_data if loop and trigger else None
    return CutState(restored, parse_data)  # type: ignore[arg-type]


def windowed_events(events: list[Mapping[str, Any]], limit: int) -> tuple[list[Event], CutState] | None:
    """The latest session's events cut to about ``limit``, behind a prefix restoring the state at
    the cut, and that state; None when the session is short enough (or no customer message offers
    a cut)."""
    start = session_start(events)
    if limit <= 0 or len(events) - start <= limit:
        return None
    cut = next(
        (i for i in range(len(events) - limit, len(events)) if events[i].get("event") == "user"),
        None,
    )
    if cut is None or cut <= start + 1:
        return None
    state = state_before(events[start:cut])
    stamp = float(events[cut - 1].get("timestamp") or 0.0)
    prefix = [
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        *state.events,
        ActionExecuted(ACTION_LISTEN_NAME),
    ]
    for event in prefix:
        event.timestamp = stamp
    tail = Dialogue.from_parameters({"name": "", "events": list(events[cut:])}).events
    return prefix + tail, state


class WindowedHistory:
    """Tracker store mixin: windowed trackers for the processor, whole records in storage.

    A store using it implements ``_read_record(sender_id) -> str | None`` and
    ``_write_record(sender_id, serialised)``, and sets ``window_events`` (0: no window). Every
    tracker it hands out is marked with what it was made from, so saving appends the new events
    (and streams them to the event broker) without reading the conversation back: Rasa's stores
    deserialise the stored conversation twice more on every save.
    """

    window_events: int = 0

    def _read_record(self, sender_id: str) -> str | None:
        raise NotImplementedError

    def _write_record(self, sender_id: str, serialised: str) -> None:
        raise NotImplementedError

    async def get_or_create_tracker(
        self,
        sender_id: str,
        max_event_history: int | None = None,
        append_action_listen: bool = True,
    ) -> DialogueStateTracker:
        if max_event_history is None:
            tracker = self._windowed_tracker(sender_id)
            if tracker is not None:
                return tracker
        return await super().get_or_create_tracker(  # type: ignore[misc]
            sender_id, max_event_history=max_event_history, append_action_listen=append_action_listen
        )

    def _windowed_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session from the stored record (windowed when long), marked for :meth:`save`."""
        stored = self._read_record(sender_id)
        if stored is None:
            return None
        events = json.loads(stored).get("events") or []
        tracker: DialogueStateTracker = self.init_tracker(sender_id)  # type: ignore[attr-defined]
        window = windowed_events(events, self.window_events)
        if window is None:  # the whole session, as Rasa's retrieve gives it
            session = events[session_start(events) :]
            tracker.recreate_from_dialogue(Dialogue.from_parameters({"name": sender_id, "events": session}))
        else:
            tracker.recreate_from_dialogue(Dialogue(sender_id, window[0]))
            trigger = window[1].loop_trigger
            if (
                trigger
                and tracker.active_loop is not None
                and not tracker.active_loop.trigger_message.get("text")
            ):
                tracker.active_loop.trigger_message = trigger  # the form was started before the cut
        setattr(tracker, WINDOW_ATTRIBUTE, Window(len(events), len(tracker.events)))
        return tracker

    async def save(self, tracker: DialogueStateTracker, *args: Any, **kwargs: Any) -> None:
        window: Window | None = getattr(tracker, WINDOW_ATTRIBUTE, None)
        stored = self._read_record(tracker.sender_id) if window is not None else None
        if window is None or stored is None:
            await super().save(tracker, *args, **kwargs)  # type: ignore[misc]
            return
        new_events = list(tracker.events)[window.tracker_events :]
        if not new_events:
            return
        broker = getattr(self, "event_broker", None)
        if broker is not None:
            await self._stream_new_events(broker, new_events, tracker.sender_id)  # type: ignore[attr-defined]
        self._write_record(tracker.sender_id, appended(tracker.sender_id, stored, new_events))
        window.stored_events += len(new_events)
        window.tracker_events = len(tracker.events)


def appended(sender_id: str, stored: str, new_events: list[Event]) -> str:
    """The serialised record ``stored`` with ``new_events`` at the end of its events.

    Records this module writes list the events last (``{"name": ..., "events": [...]}``), so new
    events are appended to the text without parsing the conversation so far; a record in Rasa's
    order (name last) is rewritten once in that order.
    """
    items = ", ".join(json.dumps(event.as_dict(), ensure_ascii=False) for event in new_events)
    if stored.endswith("[]}"):
        return f"{stored[:-2]}{items}]}}"
    if stored.endswith("]}"):
        return f"{stored[:-2]}, {items}]}}"
    events = json.loads(stored).get("events") or []
    events.extend(event.as_dict() for event in new_events)
    return json.dumps({"name": sender_id, "events": events}, ensure_ascii=False)
