"""The plain, immutable objects the repositories return, with personal data decrypted.

Nothing here imports SQLAlchemy: the business rules (``kefu.orders.policy``) use these objects
without a database. Phone numbers and addresses are left out of ``repr`` so they don't reach logs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any


class OrderStatus(str, Enum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDING = "refunding"
    REFUNDED = "refunded"


class RefundStatus(str, Enum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REFUNDED = "refunded"
    REJECTED = "rejected"


class HandoffStatus(str, Enum):
    WAITING = "waiting"
    CLAIMED = "claimed"
    CLOSED = "closed"


@dataclass(frozen=True)
class Order:
    order_id: str
    user_id: str
    status: OrderStatus
    product: str
    amount: Decimal
    created_at: dt.datetime
    phone: str = field(repr=False)
    address: str = field(repr=False)
    shipped_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    carrier: str | None = None
    tracking_no: str | None = None

    @property
    def phone_last4(self) -> str:
        return self.phone[-4:]


@dataclass(frozen=True)
class RefundRequest:
    id: int
    reference: str
    order_id: str
    reason: str
    status: RefundStatus
    amount: Decimal
    created_at: dt.datetime


@dataclass(frozen=True)
class HandoffRequest:
    id: int
    sender_id: str
    user_id: str | None
    reason: str
    transcript: tuple[dict[str, Any], ...] = field(repr=False)
    status: HandoffStatus
    created_at: dt.datetime
    outside_hours: bool
    claimed_by: str | None = None
    claimed_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
