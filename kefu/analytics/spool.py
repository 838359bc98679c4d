"""A durable local queue of analytics events: a SQLite file that survives restarts.

Events are written here first, on the caller's thread (a local insert, no network), and removed only
once the publisher has delivered them, so an event is never lost while RabbitMQ (or the database) is
away. An event id is spooled at most once.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from kefu.analytics.events import AnalyticsEvent

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
)
"""


class Spool:
    """Events waiting for delivery, oldest first."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes, cheap per insert
        self._db.execute(_SCHEMA)

    def add(self, events: list[AnalyticsEvent]) -> None:
        """Keeps ``events`` until :meth:`remove`; an id already spooled is ignored."""
        if not events:
            return
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO spool (event_id, body) VALUES (?, ?)",
                [(event.event_id, event.to_json()) for event in events],
            )

    def peek(self, limit: int) -> list[tuple[int, str]]:
        """Up to ``limit`` of the oldest events as ``(seq, body)``, left in the spool."""
        with self._lock:
            return list(self._db.execute("SELECT seq, body FROM spool ORDER BY seq LIMIT ?", (limit,)))

    def remove(self, seqs: list[int]) -> None:
        """Forgets delivered events."""
        if not seqs:
            return
        with self._lock:
            self._db.executemany("DELETE FROM spool WHERE seq = ?", [(seq,) for seq in seqs])

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM spool").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
