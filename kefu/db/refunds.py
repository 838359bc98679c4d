"""The refund repository: refund requests and the order state change that goes with them."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from kefu.db.clock import Clock, shop_now
from kefu.db.engine import session_scope
from kefu.db.models import RefundRequestRow
from kefu.db.records import OrderStatus, RefundRequest, RefundStatus
from kefu.db.transitions import record_refund, update_if_status


class RefundRepository:
    """Refund requests in the database at ``url`` (default: ``DATABASE_URL``)."""

    def __init__(self, url: str | None = None, clock: Clock | None = None):
        self._url = url
        self._clock = clock or shop_now

    def create(self, order_id: str, reason: str, amount: Decimal) -> RefundRequest | None:
        """Records a return request of a ``delivered`` order and marks the order ``refunding``.

        Both happen in one transaction, or neither: None when the order is not (or no longer) delivered.
        """
        with session_scope(self._url) as session:
            if not update_if_status(
                session, order_id, [OrderStatus.DELIVERED], status=OrderStatus.REFUNDING.value
            ):
                return None
            row = record_refund(session, order_id, reason, amount, RefundStatus.SUBMITTED, self._clock())
            return _to_refund(row)

    def latest_for_order(self, order_id: str) -> RefundRequest | None:
        statement = (
            select(RefundRequestRow)
            .where(RefundRequestRow.order_id == order_id)
            .order_by(RefundRequestRow.created_at.desc(), RefundRequestRow.id.desc())
            .limit(1)
        )
        with session_scope(self._url) as session:
            row = session.scalars(statement).first()
            return None if row is None else _to_refund(row)


def _to_refund(row: RefundRequestRow) -> RefundRequest:
    return RefundRequest(
        id=row.id,
        reference=row.reference,
        order_id=row.order_id,
        reason=row.reason,
        status=RefundStatus(row.status),
        amount=row.amount,
        created_at=row.created_at,
    )
