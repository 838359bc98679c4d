"""Writing analytics events to the SQL database, each event once however often it is delivered."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from kefu.analytics.events import AnalyticsEvent
from kefu.db.engine import get_engine
from kefu.db.models import AnalyticsEventRow

_TABLE = AnalyticsEventRow.__table__


def event_row(event: AnalyticsEvent) -> dict[str, Any]:
    """The ``analytics_events`` columns of ``event``."""
    data = event.data

    def text(key: str, limit: int) -> str | None:
        value = data.get(key)
        return None if value is None else str(value)[:limit]

    latency = data.get("latency_ms")
    confidence = data.get("confidence")
    faq_hit = data.get("faq_hit")
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "occurred_at": event.occurred_at,
        "day": event.day,
        "sender_hash": event.sender,
        "turn_id": event.turn_id,
        "channel": text("channel", 32),
        "intent": text("intent", 64),
        "confidence": None if confidence is None else float(confidence),
        "question": text("question", 500),
        "source_type": text("source_type", 16),
        "source_id": text("source_id", 64),
        "faq_hit": None if faq_hit is None else bool(faq_hit),
        "latency_ms": None if latency is None else int(latency),
        "reason": text("reason", 32),
        "payload": json.dumps(data, ensure_ascii=False, sort_keys=True),
    }


def _insert_ignoring_duplicates(connection: Connection, rows: list[dict[str, Any]]) -> int:
    backend = connection.dialect.name
    if backend == "postgresql":
        statement = postgresql.insert(_TABLE).on_conflict_do_nothing(index_elements=["event_id"])
    elif backend in ("mysql", "mariadb"):
        # Not ON DUPLICATE KEY UPDATE: with the driver's FOUND_ROWS flag its rowcount can't tell
        # a duplicate from a new row. Values are truncated to their columns beforehand.
        statement = _TABLE.insert().prefix_with("IGNORE")
    elif backend == "sqlite":
        statement = sqlite.insert(_TABLE).on_conflict_do_nothing(index_elements=["event_id"])
    else:
        raise NotImplementedError(f"analytics storage does not support {backend!r} databases")
    inserted = 0
    for row in rows:  # one statement per row: rowcount tells a new event from a duplicate
        inserted += max(connection.execute(statement, row).rowcount, 0)
    return inserted


class AnalyticsStore:
    """``analytics_events`` in the database at ``url`` (default: ``DATABASE_URL``)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url

    def save(self, events: list[AnalyticsEvent]) -> int:
        """Stores ``events`` in one transaction, skipping those already stored; returns how many were new."""
        if not events:
            return 0
        with get_engine(self.url).begin() as connection:
            return _insert_ignoring_duplicates(connection, [event_row(event) for event in events])
