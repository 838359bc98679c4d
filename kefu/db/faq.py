"""The FAQ repository: the shop's FAQ topics in the classic ``faq`` table, synced from ``knowledge/``."""

from __future__ import annotations

import json
from enum import Enum
from typing import Sequence

from sqlalchemy import select

from kefu.db.clock import Clock, shop_now
from kefu.db.engine import session_scope
from kefu.db.models import FaqRow
from kefu.knowledge.sources import FaqEntry


class FaqChange(str, Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"


def _content(entry: FaqEntry) -> dict[str, str]:
    if any("," in tag for tag in entry.tags):
        raise ValueError(f"FAQ topic {entry.topic!r}: tags are stored comma-separated and can't contain ','")
    return {
        "question": entry.question,
        "answer": entry.answer,
        "tags": ",".join(entry.tags),
        "alternatives": json.dumps(list(entry.alternatives), ensure_ascii=False),
        "content_hash": entry.content_hash,
    }


class FaqRepository:
    """FAQ topics in the database at ``url`` (default: ``DATABASE_URL``)."""

    def __init__(self, url: str | None = None, clock: Clock | None = None):
        self._url = url
        self._clock = clock or shop_now

    def sync(self, entries: Sequence[FaqEntry]) -> dict[FaqChange, int]:
        """Makes the table hold exactly ``entries``, in one transaction: inserts new topics, updates
        those whose ``content_hash`` changed, deletes the others; returns how many of each."""
        if not entries:
            raise ValueError("sync() got no FAQ topics; refusing to delete every FAQ topic")
        contents = {entry.topic: _content(entry) for entry in entries}
        counts = dict.fromkeys(FaqChange, 0)
        now = self._clock()
        with session_scope(self._url) as session:
            rows = {row.topic: row for row in session.scalars(select(FaqRow))}
            for topic, content in contents.items():
                row = rows.get(topic)
                if row is None:
                    session.add(FaqRow(topic=topic, create_time=now, updated_time=now, **content))
                    counts[FaqChange.CREATED] += 1
                elif row.content_hash == content["content_hash"]:
                    counts[FaqChange.UNCHANGED] += 1
                else:
                    for column, value in content.items():
                        setattr(row, column, value)
                    row.updated_time = now
                    counts[FaqChange.UPDATED] += 1
            for topic, row in rows.items():
                if topic not in contents:
                    session.delete(row)
                    counts[FaqChange.DELETED] += 1
        return counts

    def get(self, topic: str) -> FaqEntry | None:
        with session_scope(self._url) as session:
            row = session.scalars(select(FaqRow).where(FaqRow.topic == topic)).first()
            return None if row is None else _to_entry(row)

    def all(self) -> list[FaqEntry]:
        """Every topic, by topic id."""
        with session_scope(self._url) as session:
            return [_to_entry(row) for row in session.scalars(select(FaqRow).order_by(FaqRow.topic))]


def _to_entry(row: FaqRow) -> FaqEntry:
    return FaqEntry(
        topic=row.topic,
        question=row.question,
        answer=row.answer,
        tags=tuple(tag for tag in row.tags.split(",") if tag),
        alternatives=tuple(json.loads(row.alternatives)),
    )
