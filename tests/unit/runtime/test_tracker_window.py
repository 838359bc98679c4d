"""Long conversations reach the processor windowed, with the same state; storage keeps every event."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    LoopInterrupted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from kefu.runtime.conversation_stores import MemoryTrackerStore
from kefu.runtime.tracker_window import WINDOW_ATTRIBUTE, state_before, windowed_events
from kefu.settings import Settings

DOMAIN = Domain.load(str(Path(__file__).parents[3] / "domain.yml"))
SENDER = "customer-long"


class Broker:
    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


def turn(text: str, intent: str, action: str, stamp: float, *extra) -> list:
    return [
        UserUttered(text, {"name": intent, "confidence": 0.9}, timestamp=stamp),
        *extra,
        ActionExecuted(action, timestamp=stamp + 0.1),
        BotUttered(f"回答：{text}", timestamp=stamp + 0.2),
        ActionExecuted("action_listen", timestamp=stamp + 0.3),
    ]


def long_conversation(turns: int, start: float = 1_000.0) -> list:
    events = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start),
        ActionExecuted("action_listen", timestamp=start),
    ]
    events += turn(
        "查订单LT2026110103", "query_order", "order_form", start + 1, SlotSet("order_id", "LT2026110103")
    )
    events += [ActiveLoop("order_form", timestamp=start + 1.5), LoopInterrupted(True, timestamp=start + 1.6)]
    for i in range(2, turns):
        events += turn(f"运费怎么算{i}", "faq", "action_answer_faq", start + 10 * i)
    return events


def store(window: int, broker: Broker | None = None) -> MemoryTrackerStore:
    return MemoryTrackerStore(DOMAIN, event_broker=broker, settings=Settings(tracker_window_events=window))


def saved(memory: MemoryTrackerStore, events: list) -> None:
    tracker = DialogueStateTracker.from_events(SENDER, events, DOMAIN.slots)
    asyncio.run(memory.save(tracker))


def test_the_processor_gets_a_bounded_tracker_with_the_full_state():
    events = long_conversation(40)
    full = DialogueStateTracker.from_events(SENDER, events, DOMAIN.slots)
    memory = store(60)
    saved(memory, events)
    windowed = asyncio.run(memory.get_or_create_tracker(SENDER))
    assert len(windowed.events) <= 60 + 8 < len(full.events)
    assert windowed.current_slot_values() == full.current_slot_values()
    assert windowed.active_loop == full.active_loop and windowed.active_loop_name == "order_form"
    assert windowed.is_paused() == full.is_paused()
    assert windowed.latest_message.text == full.latest_message.text
    assert windowed.latest_action_name == full.latest_action_name
    assert windowed.past_states(DOMAIN)[-6:] == full.past_states(DOMAIN)[-6:]
    assert isinstance(windowed.events[1], SessionStarted)
    assert isinstance(
        windowed.events[len(windowed.events) - 60 - 1], (UserUttered, ActionExecuted, BotUttered)
    )


def stored_with_broker(events: list) -> tuple[MemoryTrackerStore, Broker]:
    """A store holding ``events`` and a broker that has not seen them."""
    broker = Broker()
    memory = store(60, broker)
    saved(memory, events)
    broker.published.clear()
    return memory, broker


def test_saving_appends_only_the_turns_new_events_and_streams_them_once():
    events = long_conversation(40)
    memory, broker = stored_with_broker(events)
    windowed = asyncio.run(memory.get_or_create_tracker(SENDER))
    for event in turn("还有别的问题", "faq", "action_answer_faq", 9_999.0):
        windowed.update(event)
    asyncio.run(memory.save(windowed))
    windowed.update(UserUttered("再问一个", {"name": "faq", "confidence": 0.9}, timestamp=10_050.0))
    asyncio.run(memory.save(windowed))  # a second save in the same turn adds only what is newer

    whole = asyncio.run(memory.retrieve_full_tracker(SENDER))
    assert [e.as_dict() for e in whole.events] == [
        *(e.as_dict() for e in events),
        *(e.as_dict() for e in turn("还有别的问题", "faq", "action_answer_faq", 9_999.0)),
        UserUttered("再问一个", {"name": "faq", "confidence": 0.9}, timestamp=10_050.0).as_dict(),
    ]
    assert [p["event"] for p in broker.published] == ["user", "action", "bot", "action", "user"]
    assert {p["sender_id"] for p in broker.published} == {SENDER}


def test_a_short_conversation_or_a_window_of_zero_is_not_cut_and_still_saves_by_appending():
    events = long_conversation(5)
    memory, broker = stored_with_broker(events)
    tracker = asyncio.run(memory.get_or_create_tracker(SENDER))
    assert [e.as_dict() for e in tracker.events] == [e.as_dict() for e in events]
    for event in turn("还有吗", "faq", "action_answer_faq", 9_000.0):
        tracker.update(event)
    asyncio.run(memory.save(tracker))
    assert len(asyncio.run(memory.retrieve_full_tracker(SENDER)).events) == len(events) + 4
    assert len(broker.published) == 4
    off = store(0)
    saved(off, long_conversation(40))
    tracker = asyncio.run(off.get_or_create_tracker(SENDER))
    assert len(tracker.events) == len(long_conversation(40))


def test_only_the_latest_session_is_windowed_and_older_sessions_stay_stored():
    first, second = long_conversation(30), long_conversation(30, start=50_000.0)
    memory = store(60)
    saved(memory, first + second)
    windowed = asyncio.run(memory.get_or_create_tracker(SENDER))
    assert min(e.timestamp for e in windowed.events) >= 50_000.0
    assert len(asyncio.run(memory.retrieve_full_tracker(SENDER)).events) == len(first) + len(second)


def test_a_new_customer_gets_a_new_tracker():
    tracker = asyncio.run(store(60).get_or_create_tracker("someone-new"))
    assert tracker.sender_id == "someone-new" and not hasattr(tracker, WINDOW_ATTRIBUTE)


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([{"event": "slot", "name": "order_id", "value": "A"}], [SlotSet("order_id", "A")]),
        (
            [{"event": "slot", "name": "order_id", "value": "A"}, {"event": "reset_slots"}],
            [],
        ),
        (
            [
                {"event": "active_loop", "name": "order_form"},
                {"event": "loop_interrupted", "is_interrupted": True},
            ],
            [ActiveLoop("order_form"), LoopInterrupted(True)],
        ),
        ([{"event": "active_loop", "name": "order_form"}, {"event": "active_loop", "name": None}], []),
        ([{"event": "pause"}], [ConversationPaused()]),
        ([{"event": "pause"}, {"event": "resume"}], []),
        ([{"event": "slot", "name": "order_id", "value": "A"}, {"event": "restart"}], []),
    ],
)
def test_the_state_before_the_cut(events, expected):
    assert state_before(events).events == expected


def test_the_forms_trigger_message_is_the_customer_message_that_started_it():
    events = [
        {
            "event": "user",
            "text": "查订单",
            "parse_data": {"intent": {"name": "query_order", "confidence": 1.0}},
        },
        {"event": "active_loop", "name": "order_form"},
        {
            "event": "user",
            "text": "LT2026110103",
            "parse_data": {"intent": {"name": "inform", "confidence": 1.0}},
        },
    ]
    assert state_before(events).loop_trigger["text"] == "查订单"
    assert state_before(events[:1]).loop_trigger is None  # no form, no trigger


def test_the_cut_is_at_a_customer_message_within_the_limit():
    events = [e.as_dict() for e in long_conversation(40)]
    window, _ = windowed_events(events, 60)
    assert [e["event"] for e in window[:3]] == ["action", "session_started", "slot"]
    first_kept = next(i for i, e in enumerate(window) if e["event"] == "user")
    kept = window[first_kept:]
    assert len(kept) <= 60 and kept == events[len(events) - len(kept) :]
    assert windowed_events(events, 1000) is None


def test_the_next_turn_is_read_from_the_window_not_the_record():
    memory = store(60)
    saved(memory, long_conversation(40))
    tracker = asyncio.run(memory.get_or_create_tracker(SENDER))
    for event in turn("还有吗", "faq", "action_answer_faq", 9_000.0):
        tracker.update(event)
    asyncio.run(memory.save(tracker))
    reads = []
    memory._read_record = lambda sender_id: reads.append(sender_id)  # the record is not needed
    again = asyncio.run(memory.get_or_create_tracker(SENDER))
    assert reads == [] and again.latest_message.text == "还有吗"
    assert again.current_slot_values() == tracker.current_slot_values()
    assert again.active_loop_name == "order_form" and len(again.events) <= 60 + 8


def test_a_record_changed_behind_the_window_is_read_again():
    memory = store(60)
    saved(memory, long_conversation(40))
    tracker = asyncio.run(memory.get_or_create_tracker(SENDER))
    tracker.update(UserUttered("第一句", {"name": "faq", "confidence": 0.9}, timestamp=9_000.0))
    asyncio.run(memory.save(tracker))
    # Someone rewrites the record in Rasa's layout (the admin API appends through Rasa's save).
    whole = asyncio.run(memory.retrieve_full_tracker(SENDER))
    whole.update(BotUttered("人工客服：您好", timestamp=9_001.0))
    memory.store[SENDER] = memory.serialise_tracker(whole)
    again = asyncio.run(memory.get_or_create_tracker(SENDER))
    assert again.latest_bot_utterance.text == "人工客服：您好"
    again.update(UserUttered("第二句", {"name": "faq", "confidence": 0.9}, timestamp=9_002.0))
    asyncio.run(memory.save(again))  # rewritten once in the appendable layout
    texts = [e.text for e in asyncio.run(memory.retrieve_full_tracker(SENDER)).events if hasattr(e, "text")]
    assert texts[-3:] == ["第一句", "人工客服：您好", "第二句"]


def test_appending_to_a_record_in_either_key_order_gives_the_same_events():
    from kefu.runtime.tracker_window import appended

    new = turn("还有吗", "faq", "action_answer_faq", 5.0)
    items = ", ".join(json.dumps(e.as_dict(), ensure_ascii=False) for e in new)
    old = [e.as_dict() for e in long_conversation(3)]
    rasa_order = json.dumps({"events": old, "name": SENDER})
    once = appended(SENDER, rasa_order, items)
    twice = appended(SENDER, once, items)  # now in this module's layout: appended as text
    assert json.loads(twice) == {"name": SENDER, "events": old + [e.as_dict() for e in new] * 2}
    assert json.loads(appended(SENDER, json.dumps({"name": SENDER, "events": []}), items))["events"] == [
        e.as_dict() for e in new
    ]
