"""Looks up event classes by type name in a table instead of walking the class tree per event.

Rasa 3.6's ``Event.resolve_by_type`` lists every subclass of ``Event`` (recursively, checking each
for abstractness) for every event it deserialises. A tracker is deserialised on every message, so
the cost grows with the conversation: at turn 150 it was a fifth of the Rasa process's time
(py-spy). :func:`resolve_by_type`, installed by
``kefu.runtime.patches.resolve_event_types_from_table``, resolves names through a table built
once, and again only when a name is missing (an event class imported later). Same classes, same
precedence, same errors.
"""

from __future__ import annotations

from typing import Any

import rasa.shared.utils.common
from rasa.shared.core.events import Event

_by_name: dict[str, type[Event]] = {}


def _refresh() -> None:
    table: dict[str, type[Event]] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)  # the first class of a name wins, as in Rasa
    _by_name.clear()
    _by_name.update(table)


def resolve_by_type(type_name: str, default: Any = None) -> type[Event] | None:
    """``Event.resolve_by_type``: the event class called ``type_name``."""
    if type_name not in _by_name:
        _refresh()
    cls = _by_name.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa's backwards compatibility with old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")
