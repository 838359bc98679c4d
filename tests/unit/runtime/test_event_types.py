"""Event classes are found by name as Rasa finds them, from a table."""

from __future__ import annotations

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

from kefu.runtime import event_types, patches

ORIGINAL = Event.resolve_by_type


@pytest.fixture
def installed(monkeypatch):
    monkeypatch.setattr(Event, "resolve_by_type", ORIGINAL)
    patches.resolve_event_types_from_table()
    yield


def test_every_event_type_resolves_to_rasas_class():
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        assert event_types.resolve_by_type(name) is ORIGINAL(name)


def test_unknown_names_behave_as_in_rasa():
    assert event_types.resolve_by_type("topic") is None
    assert event_types.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no-such-event'"):
        event_types.resolve_by_type("no-such-event")


def test_an_event_class_defined_later_is_found(installed):
    class LateEvent(ActionExecuted):
        type_name = "kefu_late_event_for_test"

    assert Event.resolve_by_type("kefu_late_event_for_test") is LateEvent


def test_deserialised_events_are_the_same_after_install(installed):
    dicts = [
        UserUttered("运费怎么算", {"name": "faq", "confidence": 0.9}).as_dict(),
        ActionExecuted("action_answer_faq").as_dict(),
        SlotSet("order_id", "LT2026110103").as_dict(),
    ]
    events = [Event.from_parameters(d) for d in dicts]
    assert [type(e) for e in events] == [UserUttered, ActionExecuted, SlotSet]
    assert [e.as_dict() for e in events] == dicts
