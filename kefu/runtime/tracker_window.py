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
    """Marks a tracker made by :class:`WindowedHistory`: how many of its events are stored."""

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
            slots[str(event.get("name"))] = event.get("value")
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


def windowed_events(
    events: list[Mapping[str, Any]], limit: int
) -> tuple[list[dict[str, Any]], CutState] | None:
    """The latest session's events (as dicts) cut to about ``limit``, behind a prefix restoring the
    state at the cut, and that state; None when the session is short enough (or no customer message
    offers a cut)."""
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
    return [event.as_dict() for event in prefix] + [dict(e) for e in events[cut:]], state


def latest_session(
    events: list[Mapping[str, Any]], limit: int
) -> tuple[list[dict[str, Any]], CutState | None]:
    """What the processor works on: the latest session, windowed when it is longer than ``limit``."""
    window = windowed_events(events, limit)
    if window is None:
        return [dict(e) for e in events[session_start(events) :]], None
    return window


class WindowedHistory:
    """Tracker store mixin: windowed trackers for the processor, whole records in storage.

    A store keeps two things per conversation: the record (every event, Rasa's JSON with the events
    listed last) and the window (the events the processor needs next time, with the record's length
    when it was written). A message costs the same at turn 150 as at turn 5:

    - :meth:`get_or_create_tracker` builds the tracker from the window when the record still has the
      length the window names (anything else, e.g. a record rewritten by Rasa's own ``save``, falls
      back to reading the record);
    - :meth:`save` appends the turn's new events to the end of the record in place, streams them to
      the event broker, and writes the next window. Rasa's stores read the whole conversation back
      twice and rewrite it on every save.

    Stores implement the ``_read_record``/``_write_record``/``_append_to_record``/``_read_window``/
    ``_write_window`` primitives below and set ``window_events`` (0: no window).
    """

    window_events: int = 0

    def _read_record(self, sender_id: str) -> str | None:
        raise NotImplementedError

    def _write_record(self, sender_id: str, serialised: str) -> int:
        """Stores the record; returns its length (the window's check)."""
        raise NotImplementedError

    def _append_to_record(self, sender_id: str, items: str) -> int | None:
        """Appends ``items`` (serialised events, comma-separated) to the record's events in place;
        its new length, or None when the record is missing or not in this module's layout."""
        raise NotImplementedError

    def _read_window(self, sender_id: str) -> tuple[str | None, int | None]:
        """The stored window and the record's current length."""
        raise NotImplementedError

    def _write_window(self, sender_id: str, serialised: str) -> None:
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
        """The latest session (windowed when long), marked for :meth:`save`; None for a new customer."""
        window, length = self._read_window(sender_id)
        state: CutState | None = None
        session: list[dict[str, Any]] | None = None
        if window is not None and length:
            stored_window = json.loads(window)
            if stored_window.get("length") == length:
                session = stored_window.get("events") or []
        if session is None:
            stored = self._read_record(sender_id)
            if stored is None:
                return None
            session, state = latest_session(json.loads(stored).get("events") or [], self.window_events)
        tracker: DialogueStateTracker = self.init_tracker(sender_id)  # type: ignore[attr-defined]
        tracker.recreate_from_dialogue(Dialogue.from_parameters({"name": sender_id, "events": session}))
        trigger = state.loop_trigger if state else None
        if (
            trigger
            and tracker.active_loop is not None
            and not tracker.active_loop.trigger_message.get("text")
        ):
            tracker.active_loop.trigger_message = trigger  # the form was started before the cut
        setattr(tracker, WINDOW_ATTRIBUTE, Window(len(tracker.events)))
        return tracker

    async def save(self, tracker: DialogueStateTracker, *args: Any, **kwargs: Any) -> None:
        window: Window | None = getattr(tracker, WINDOW_ATTRIBUTE, None)
        if window is None:
            await super().save(tracker, *args, **kwargs)  # type: ignore[misc]
            return
        events = list(tracker.events)
        new_events = events[window.tracker_events :]
        if not new_events:
            return
        sender_id = tracker.sender_id
        dicts = [event.as_dict() for event in events]  # once: for the record and for the window
        items = ", ".join(json.dumps(event, ensure_ascii=False) for event in dicts[window.tracker_events :])
        length = self._append_to_record(sender_id, items)
        if length is None:  # a record in Rasa's layout, or deleted meanwhile: write it whole
            stored = self._read_record(sender_id)
            if stored is None:
                delattr(tracker, WINDOW_ATTRIBUTE)
                await super().save(tracker, *args, **kwargs)  # type: ignore[misc]
                return
            length = self._write_record(sender_id, appended(sender_id, stored, items))
        broker = getattr(self, "event_broker", None)
        if broker is not None:
            await self._stream_new_events(broker, new_events, sender_id)  # type: ignore[attr-defined]
        session, _ = latest_session(dicts, self.window_events)
        self._write_window(sender_id, json.dumps({"length": length, "events": session}, ensure_ascii=False))
        window.tracker_events = len(events)


def appended(sender_id: str, stored: str, items: str) -> str:
    """The serialised record ``stored`` with ``items`` (serialised events, comma-separated) at the end
    of its events, in this module's layout (``{"name": ..., "events": [...]}``, events last, so later
    events can be appended in place)."""
    record = appended_in_place(stored, items)
    if record is not None:
        return record
    events = json.loads(stored).get("events") or []
    events.extend(json.loads(f"[{items}]"))
    return json.dumps({"name": sender_id, "events": events}, ensure_ascii=False)


def appended_in_place(stored: str, items: str) -> str | None:
    """``stored`` with ``items`` appended to its events as text; None when it is not in this module's
    layout (or its events list is empty)."""
    insert = insertion(stored[-2:], items)
    if insert is None or stored.endswith("[]}"):
        return None
    return stored[:-2] + insert


def insertion(ending: str, items: str) -> str | None:
    """What replaces a record's last two characters to append ``items`` (serialised events), judged by
    those two: ``]}`` ends this module's layout (whose events list is never empty); Rasa's ends with
    the name, ``"}``, and gets None."""
    return f", {items}]}}" if ending == "]}" else None
