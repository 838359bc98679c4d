"""The process-wide order service, built on first use (the schema is migrated at start-up)."""

from __future__ import annotations

import threading

from kefu.orders.service import OrderService

_service: OrderService | None = None
_lock = threading.Lock()


def get_order_service() -> OrderService:
    """The action server's :class:`OrderService` (:func:`kefu.db.migrate.upgrade_at_start` has
    brought the schema up to date when the server started)."""
    global _service
    with _lock:
        if _service is None:
            _service = OrderService()
        return _service
