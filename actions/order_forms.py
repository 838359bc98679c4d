"""Form validation: which order, proof of ownership, refund reasons and new addresses."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Callable

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.customer import logged_in_user
from kefu.orders.provider import get_order_service
from kefu.orders.service import LookupCode, OrderService, ServiceUnavailable
from kefu.security.verification import (
    CLIENT_IP_KEY,
    VerificationGuard,
    VerificationUnavailable,
    client_keys,
    get_verification_guard,
)
from kefu.text import find_order_ids, normalize_order_id

# The conversation's ``phone_attempts`` mirrors the shared count (kefu/security/verification.py):
# wrong answers counted against this order, and this value once the check is locked.
MAX_PHONE_ATTEMPTS = 3
_ADDRESS_PARTS = re.compile(r"[省市区县镇乡街道路巷弄号村]")


def attempts(tracker: Tracker) -> int:
    return int(tracker.get_slot("phone_attempts") or 0)


def caller_keys(tracker: Tracker) -> list[str]:
    """Who is answering, for the lock-out: the address the server recorded, and the sender id."""
    metadata = tracker.latest_message.get("metadata") or {}
    ip = metadata.get(CLIENT_IP_KEY) if isinstance(metadata, dict) else None
    return client_keys(tracker.sender_id, ip if isinstance(ip, str) else None)


def looks_like_address(text: str) -> bool:
    """A delivery address names a place and a street detail: at least 6 characters and 2 markers."""
    text = text.strip()
    return 6 <= len(text) <= 200 and len(_ADDRESS_PARTS.findall(text)) >= 2


class ValidateOrderForm(FormValidationAction):
    """Finds the order and makes sure the customer may see it before anything is shown."""

    def __init__(
        self,
        orders: Callable[[], OrderService] | None = None,
        guard: Callable[[], VerificationGuard] | None = None,
    ) -> None:
        self._orders = orders or get_order_service
        self._guard = guard or get_verification_guard

    def name(self) -> str:
        return "validate_order_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            return await super().run(dispatcher, tracker, domain)
        except (ServiceUnavailable, VerificationUnavailable):
            dispatcher.utter_message(response="utter_order_service_down")
            return [SlotSet("order_id", None), SlotSet("phone_last4", None), SlotSet("requested_slot", None)]

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if attempts(tracker) >= MAX_PHONE_ATTEMPTS:
            return []  # locked out: the form ends and action_handle_order_request says so
        order_id = tracker.get_slot("order_id")
        if logged_in_user(tracker) or (order_id and order_id in (tracker.get_slot("verified_orders") or [])):
            return ["order_id"]
        return ["order_id", "phone_last4"]

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        order_id = normalize_order_id(str(value or ""))
        if order_id is None:
            dispatcher.utter_message(response="utter_order_id_invalid")
            return {"order_id": None}
        user = logged_in_user(tracker)
        if user:
            lookup = await asyncio.to_thread(self._orders().lookup, order_id, user)
            if lookup.code is LookupCode.NOT_FOUND:
                dispatcher.utter_message(response="utter_order_not_found_for_customer", order_id=order_id)
                return {"order_id": None}
        elif order_id not in (tracker.get_slot("verified_orders") or []):
            # Anonymous: known or not, every order number is asked for the digits (no existence oracle).
            verdict = await asyncio.to_thread(self._guard().check, None, caller_keys(tracker))
            if not verdict.allowed:
                return {"order_id": order_id, "phone_last4": None, "phone_attempts": MAX_PHONE_ATTEMPTS}
        slots: dict[str, Any] = {"order_id": order_id}
        if order_id not in (tracker.get_slot("verified_orders") or []):
            slots["phone_last4"] = None  # digits proved another order: ask again
        return slots

    async def validate_phone_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        order_id = tracker.get_slot("order_id")
        if not order_id or tracker.get_slot("requested_slot") != "phone_last4":
            return {"phone_last4": None}  # digits kept from another order, not an answer to the question
        if find_order_ids(str(value or "")):
            return {"phone_last4": None}  # another order number: validate_order_id takes it, no try used
        digits = "".join(re.findall(r"\d", str(value or "")))
        if len(digits) < 4:
            dispatcher.utter_message(response="utter_phone_invalid")
            return {"phone_last4": None}
        guard, clients = self._guard(), caller_keys(tracker)
        verdict = await asyncio.to_thread(guard.check, order_id, clients)
        if not verdict.allowed:  # locked: the digits are not even compared
            return {"phone_last4": None, "phone_attempts": MAX_PHONE_ATTEMPTS}
        lookup = await asyncio.to_thread(self._orders().lookup, order_id, None, digits[-4:])
        if lookup.code is LookupCode.FOUND:
            await asyncio.to_thread(guard.succeeded, order_id)
            verified = [*(tracker.get_slot("verified_orders") or []), order_id]
            return {"phone_last4": digits[-4:], "verified_orders": verified, "phone_attempts": 0}
        if lookup.code in (LookupCode.PHONE_MISMATCH, LookupCode.NOT_FOUND):  # an unknown order alike
            verdict = await asyncio.to_thread(guard.failed, order_id, clients)
            if not verdict.allowed:
                return {"phone_last4": None, "phone_attempts": MAX_PHONE_ATTEMPTS}
            dispatcher.utter_message(response="utter_phone_mismatch", remaining=verdict.remaining)
            counted = guard.policy.order_failures - verdict.remaining
            return {"phone_last4": None, "phone_attempts": min(counted, MAX_PHONE_ATTEMPTS - 1)}
        dispatcher.utter_message(response="utter_phone_invalid")
        return {"phone_last4": None}


class ValidateRefundForm(FormValidationAction):
    """The refund reason is the customer's own words; a few characters at least."""

    def name(self) -> str:
        return "validate_refund_form"

    async def validate_refund_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reason = str(value or "").strip()
        if len(reason) < 2 or normalize_order_id(reason):
            return {"refund_reason": None}  # the form asks again
        return {"refund_reason": reason[:200]}


class ValidateAddressForm(FormValidationAction):
    """A new delivery address must look like one."""

    def name(self) -> str:
        return "validate_address_form"

    async def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"new_address": None}  # cleared when the form starts: nothing said yet
        address = str(value).strip()
        for prefix in ("改到", "改成", "改为", "新地址是", "新地址", "地址是", "地址改成", "寄到"):
            if address.startswith(prefix):
                address = address[len(prefix) :].lstrip("：:，, ")
        if not looks_like_address(address):
            dispatcher.utter_message(response="utter_address_invalid")
            return {"new_address": None}
        return {"new_address": address}
