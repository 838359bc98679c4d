"""The order repository: reads orders with personal data decrypted and changes their state atomically."""

from __future__ import annotations

from sqlalchemy import select

from kefu.db.clock import Clock, shop_now
from kefu.db.engine import session_scope
from kefu.db.models import ORDER_ADDRESS, ORDER_PHONE, OrderRow
from kefu.db.records import Order, OrderStatus, RefundStatus
from kefu.db.transitions import record_refund, update_if_status
from kefu.security.crypto import FieldCipher, default_cipher

BEFORE_SHIPPING = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID)
CANCELLATION_REASON = "cancelled before shipping"


class OrderRepository:
    """Orders in the database at ``url`` (default: ``DATABASE_URL``)."""

    def __init__(self, url: str | None = None, cipher: FieldCipher | None = None, clock: Clock | None = None):
        self._url = url
        self._cipher = cipher or default_cipher()
        self._clock = clock or shop_now

    def get(self, order_id: str) -> Order | None:
        with session_scope(self._url) as session:
            row = session.get(OrderRow, order_id)
            return None if row is None else self._to_order(row)

    def list_for_user(self, user_id: str) -> list[Order]:
        """The user's orders, newest first."""
        statement = (
            select(OrderRow)
            .where(OrderRow.user_id == user_id)
            .order_by(OrderRow.created_at.desc(), OrderRow.order_id.desc())
        )
        with session_scope(self._url) as session:
            return [self._to_order(row) for row in session.scalars(statement)]

    def cancel(self, order_id: str, reason: str = CANCELLATION_REASON) -> bool:
        """Cancels a ``pending_payment`` or ``paid`` order; True if it did.

        A paid order's full refund is recorded (``approved``) in the same transaction.
        """
        with session_scope(self._url) as session:
            if update_if_status(session, order_id, [OrderStatus.PAID], status=OrderStatus.CANCELLED.value):
                amount = session.execute(
                    select(OrderRow.amount).where(OrderRow.order_id == order_id)
                ).scalar_one()
                record_refund(session, order_id, reason, amount, RefundStatus.APPROVED, self._clock())
                return True
            return update_if_status(
                session, order_id, [OrderStatus.PENDING_PAYMENT], status=OrderStatus.CANCELLED.value
            )

    def change_address(self, order_id: str, new_address: str) -> bool:
        """Stores a new delivery address if the order has not shipped yet; True if it did."""
        encrypted = self._cipher.encrypt(new_address, ORDER_ADDRESS)
        with session_scope(self._url) as session:
            return update_if_status(session, order_id, BEFORE_SHIPPING, address_enc=encrypted)

    def _to_order(self, row: OrderRow) -> Order:
        return Order(
            order_id=row.order_id,
            user_id=row.user_id,
            status=OrderStatus(row.status),
            product=row.product,
            amount=row.amount,
            created_at=row.created_at,
            phone=self._cipher.decrypt(row.phone_enc, ORDER_PHONE),
            address=self._cipher.decrypt(row.address_enc, ORDER_ADDRESS),
            shipped_at=row.shipped_at,
            delivered_at=row.delivered_at,
            carrier=row.carrier,
            tracking_no=row.tracking_no,
        )
