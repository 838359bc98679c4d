"""The order service: what the assistant's order actions call. No Rasa here.

Ownership first: :meth:`OrderService.lookup` gives an order only to its owner, a logged-in customer
whose user id is the order's, or an anonymous one who gave the last 4 digits of the order's phone
number. Counting wrong attempts is the caller's (``kefu.security.verification``, shared state). The
operations re-read the order and apply ``kefu.orders.policy`` to its current state, and the
repositories make each change conditional, so a stale or concurrent request fails cleanly instead of
acting twice. Any database or key failure surfaces as one :class:`ServiceUnavailable`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging
import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import Callable, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from kefu.db.orders import CANCELLATION_REASON, OrderRepository
from kefu.db.records import Order, RefundRequest
from kefu.db.refunds import RefundRepository
from kefu.orders.policy import (
    AddressChangeCode,
    CancelCode,
    RefundCode,
    can_cancel,
    can_change_address,
    refund_eligibility,
)
from kefu.security.crypto import DecryptionError, EncryptionKeyError

logger = logging.getLogger(__name__)

MAX_ADDRESS_CHARS = 200
T = TypeVar("T")


class ServiceUnavailable(RuntimeError):
    """The order data can't be reached or read right now (database down, keys misconfigured)."""


class LookupCode(str, Enum):
    FOUND = "found"
    NOT_FOUND = "not_found"  # no such order, or (logged in) not one of the customer's orders
    NEEDS_PHONE_CHECK = "needs_phone_check"  # anonymous: ask for the last 4 digits of the phone number
    PHONE_MISMATCH = "phone_mismatch"  # a wrong answer: counts as an attempt
    PHONE_FORMAT_INVALID = "phone_format_invalid"  # not 4 digits: ask again, not an attempt


@dataclass(frozen=True)
class OrderLookup:
    code: LookupCode
    order: Order | None = None  # set only when FOUND


@dataclass(frozen=True)
class RefundOutcome:
    done: bool
    code: RefundCode  # the rule applied; when not done, the one for the order's current state
    refund: RefundRequest | None = None


@dataclass(frozen=True)
class CancelOutcome:
    done: bool
    code: CancelCode
    refund: RefundRequest | None = None  # the full refund of a paid order


@dataclass(frozen=True)
class AddressChangeOutcome:
    done: bool
    code: AddressChangeCode


def _unavailable_on_failure(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(*args: object, **kwargs: object) -> T:
        try:
            return method(*args, **kwargs)
        except (SQLAlchemyError, EncryptionKeyError, DecryptionError) as exc:
            logger.exception("order data unavailable in %s", method.__name__)
            raise ServiceUnavailable(f"order data unavailable: {type(exc).__name__}") from exc

    return wrapper


class OrderService:
    def __init__(
        self,
        orders: OrderRepository | None = None,
        refunds: RefundRepository | None = None,
        today: Callable[[], dt.date] | None = None,
    ):
        self._orders = orders or OrderRepository()
        self._refunds = refunds or RefundRepository()
        self._today = today or _shop_today

    @_unavailable_on_failure
    def lookup(
        self, order_id: str, user_id: str | None = None, phone_last4: str | None = None
    ) -> OrderLookup:
        """The order if the caller may see it: ``user_id`` from a valid customer token, else the digits."""
        digits = None if user_id or phone_last4 is None else _ascii_digits(phone_last4)
        if not user_id and phone_last4 is not None and digits is None:
            return OrderLookup(LookupCode.PHONE_FORMAT_INVALID)  # before existence: no oracle
        order = self._orders.get(order_id)
        if order is None:
            return OrderLookup(LookupCode.NOT_FOUND)
        if user_id:
            return (
                OrderLookup(LookupCode.FOUND, order)
                if order.user_id == user_id
                else OrderLookup(LookupCode.NOT_FOUND)
            )
        if digits is None:
            return OrderLookup(LookupCode.NEEDS_PHONE_CHECK)
        if hmac.compare_digest(digits, order.phone_last4):
            return OrderLookup(LookupCode.FOUND, order)
        return OrderLookup(LookupCode.PHONE_MISMATCH)

    @_unavailable_on_failure
    def verified_order(self, order_id: str) -> Order | None:
        """The order, for a caller who proved ownership earlier in the conversation (by :meth:`lookup`)."""
        return self._orders.get(order_id)

    @_unavailable_on_failure
    def orders_of(self, user_id: str) -> list[Order]:
        """A logged-in customer's orders, newest first."""
        return self._orders.list_for_user(user_id)

    @_unavailable_on_failure
    def latest_refund(self, order: Order) -> RefundRequest | None:
        """The order's most recent refund request, for "where is my refund"."""
        return self._refunds.latest_for_order(order.order_id)

    @_unavailable_on_failure
    def apply_refund(self, order: Order, reason: str = "") -> RefundOutcome:
        """Applies the refund rule to the order's current state; records the refund when it allows.

        A paid order is cancelled and refunded in full; a recently delivered one becomes ``refunding``
        with a ``submitted`` request (``reason`` required). Call it after the customer confirmed.
        """
        current = self._current(order)
        eligibility = refund_eligibility(current, self._today())
        if eligibility.code is RefundCode.CANCEL_AND_REFUND:
            if self._orders.cancel(current.order_id, reason.strip() or CANCELLATION_REASON):
                return RefundOutcome(True, eligibility.code, self._refunds.latest_for_order(current.order_id))
        elif eligibility.code is RefundCode.NO_REASON_RETURN:
            if not reason.strip():
                raise ValueError("a no-reason return needs the customer's reason")
            refund = self._refunds.create(current.order_id, reason.strip(), current.amount)
            if refund is not None:
                return RefundOutcome(True, eligibility.code, refund)
        else:
            return RefundOutcome(False, eligibility.code)
        # Changed between reading and writing: report the rule for the state it is in now.
        return RefundOutcome(False, refund_eligibility(self._current(order), self._today()).code)

    @_unavailable_on_failure
    def cancel(self, order: Order) -> CancelOutcome:
        """Cancels a pending-payment or paid order, a paid one refunded in full; call after confirming."""
        decision = can_cancel(self._current(order))
        if not decision.allowed:
            return CancelOutcome(False, decision.code)
        if not self._orders.cancel(order.order_id):
            return CancelOutcome(False, can_cancel(self._current(order)).code)
        refund = (
            self._refunds.latest_for_order(order.order_id)
            if decision.code is CancelCode.PAID_FULL_REFUND
            else None
        )
        return CancelOutcome(True, decision.code, refund)

    @_unavailable_on_failure
    def change_address(self, order: Order, new_address: str) -> AddressChangeOutcome:
        """Stores the confirmed new delivery address if the order has not shipped."""
        new_address = new_address.strip()
        if not new_address or len(new_address) > MAX_ADDRESS_CHARS:
            raise ValueError(f"a delivery address has 1 to {MAX_ADDRESS_CHARS} characters")
        decision = can_change_address(self._current(order))
        if not decision.allowed:
            return AddressChangeOutcome(False, decision.code)
        if not self._orders.change_address(order.order_id, new_address):
            return AddressChangeOutcome(False, can_change_address(self._current(order)).code)
        return AddressChangeOutcome(True, decision.code)

    def _current(self, order: Order) -> Order:
        current = self._orders.get(order.order_id)
        if current is None:  # orders are never deleted; a vanished one is a broken database
            raise ServiceUnavailable(f"order {order.order_id} disappeared")
        return current


def _ascii_digits(value: str) -> str | None:
    """``value`` as 4 ASCII digits (full-width digits and spaces allowed), else None."""
    compact = "".join(value.split())
    if len(compact) != 4 or not compact.isdecimal():
        return None
    return "".join(str(unicodedata.decimal(ch)) for ch in compact)


def _shop_today() -> dt.date:
    from kefu.settings import get_settings

    return get_settings().today()
