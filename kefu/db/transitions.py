"""Order state changes inside a caller's transaction, shared by the order and refund repositories.

Every change is one conditional UPDATE (``... WHERE order_id = :id AND status IN (...)``): of two
concurrent requests, the database lets exactly one match the row, so exactly one succeeds.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.db.models import OrderRow, RefundRequestRow
from kefu.db.records import OrderStatus, RefundStatus


def update_if_status(session: Session, order_id: str, allowed: Iterable[OrderStatus], **values: Any) -> bool:
    """Sets ``values`` on the order if its status is one of ``allowed``; True if it did."""
    statement = (
        update(OrderRow)
        .where(OrderRow.order_id == order_id, OrderRow.status.in_([status.value for status in allowed]))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1


def record_refund(
    session: Session, order_id: str, reason: str, amount: Decimal, status: RefundStatus, now: dt.datetime
) -> RefundRequestRow:
    """Adds a refund request with a new reference (``RF`` + date + 6 random digits)."""
    row = RefundRequestRow(
        reference=_new_reference(session, now.date()),
        order_id=order_id,
        reason=reason,
        status=status.value,
        amount=amount,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _new_reference(session: Session, day: dt.date) -> str:
    # The unique constraint is the final guard; checking first makes a collision all but impossible.
    while True:
        reference = f"RF{day:%Y%m%d}{secrets.randbelow(1_000_000):06d}"
        taken = session.execute(select(RefundRequestRow.id).where(RefundRequestRow.reference == reference))
        if taken.first() is None:
            return reference
