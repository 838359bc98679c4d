import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from kefu.db.engine import dispose_engine
from kefu.db.orders import OrderRepository
from kefu.db.refunds import RefundRepository
from kefu.orders.service import OrderService
from kefu.security.tokens import issue_customer_token
from kefu.security.verification import InMemoryAttemptStore, VerificationGuard
from kefu.settings import get_settings

# The demo shop in a SQLite database in tmp_path: the fixtures of the order service's own tests.
from tests.unit.orders.conftest import CIPHER, orders, refunds, shop_url  # noqa: F401

ROOT = Path(__file__).resolve().parents[3]
SHOP_TODAY = dt.date(2026, 11, 21)  # LT2026110111 delivered 2 days ago, LT2026110104 8 days ago
TOKEN_SECRET = "unit-test-customer-token-secret-0123456789"


def make_tracker(
    text: str = "",
    intent: str = "faq",
    slots: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    events: list | None = None,
    active_loop: str | None = None,
    sender_id: str = "customer-1",
) -> Tracker:
    """A tracker whose latest message is ``text`` classified as ``intent``."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": [],
        "metadata": metadata or {},
    }
    return Tracker(
        sender_id,
        slots or {},
        latest,
        events or [],
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def logged_in(user_id: str, secret: str = TOKEN_SECRET, ttl_seconds: int = 3600) -> dict[str, Any]:
    """Message metadata of a customer logged in as ``user_id`` (a token signed with ``secret``)."""
    return {"user_token": issue_customer_token(user_id, secret, ttl_seconds)}


def responses(dispatcher: CollectingDispatcher) -> list[str | None]:
    """The names of the responses the action uttered, in order."""
    return [m.get("response") for m in dispatcher.messages]


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def shop_settings(monkeypatch) -> Iterator[None]:
    """The settings the actions read: the token secret and the shop's "today"."""
    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", TOKEN_SECRET)
    monkeypatch.setenv("SHOP_TODAY", SHOP_TODAY.isoformat())
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def guard() -> VerificationGuard:
    """The verification lock-out over an in-memory store (the shared stores: tests/integration)."""
    return VerificationGuard(InMemoryAttemptStore())


@pytest.fixture
def service(orders, refunds) -> OrderService:  # noqa: F811
    """The real order service over the demo shop, on SHOP_TODAY."""
    return OrderService(orders, refunds, today=lambda: SHOP_TODAY)


@pytest.fixture
def broken_service(tmp_path) -> Iterator[OrderService]:
    """An order service whose database was never migrated: every call is ServiceUnavailable."""
    url = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    yield OrderService(OrderRepository(url, CIPHER), RefundRepository(url), today=lambda: SHOP_TODAY)
    dispose_engine(url)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The assistant's domain, as the action server receives it."""
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
