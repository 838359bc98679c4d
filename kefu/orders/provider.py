"""The process-wide order service, built on first use with the schema brought up to date."""

from __future__ import annotations

import threading

from kefu.orders.service import OrderService, ServiceUnavailable

_service: OrderService | None = None
_lock = threading.Lock()


def get_order_service() -> OrderService:
    """The action server's :class:`OrderService`; the first call applies pending migrations."""
    global _service
    with _lock:
        if _service is None:
            from sqlalchemy.exc import SQLAlchemyError

            from kefu.db.migrate import upgrade

            try:
                upgrade()
            except SQLAlchemyError as exc:
                # Database down at the first order question: answered like any outage, retried next time.
                raise ServiceUnavailable(f"database unavailable: {type(exc).__name__}") from exc
            _service = OrderService()
        return _service
