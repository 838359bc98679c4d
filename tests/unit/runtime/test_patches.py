"""Each patch of kefu.runtime.patches: the Rasa code it replaces is still there, shaped as it was in
Rasa 3.6.21, and after the patch the behaviour is the project's."""

from __future__ import annotations

import inspect
import logging

import pytest
import rasa
import rasa.telemetry
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SlotSet

from kefu.runtime import action_results, event_types, patches
from kefu.runtime.conversation_stores import MemoryTrackerStore
from kefu.settings import get_settings


@pytest.fixture(autouse=True)
def rasa_as_shipped(monkeypatch):
    """Rasa's own attributes during the test, and again after it."""
    for owner, name in (
        (rasa.telemetry, "initialize_error_reporting"),
        (rasa.telemetry, "sentry_write_key"),
        (AvailableEndpoints, "read_endpoints"),
        (Agent, "_create_tracker_store"),
        (RemoteAction, "_validate_action_result"),
        (Event, "resolve_by_type"),
    ):
        original = owner.__dict__[name]
        monkeypatch.setattr(owner, name, original)
    monkeypatch.delenv("RASA_TELEMETRY_ENABLED", raising=False)
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_the_installed_rasa_is_the_one_the_patches_were_written_for():
    assert rasa.__version__.startswith("3.6.")


def test_phone_home_is_off(monkeypatch):
    assert _parameters(rasa.telemetry.initialize_error_reporting) == []
    assert _parameters(rasa.telemetry.sentry_write_key) == []
    monkeypatch.setenv("RASA_EXCEPTION_WRITE_KEY", "key")
    patches.disable_phone_home()
    assert rasa.telemetry.initialize_error_reporting() is None
    assert rasa.telemetry.sentry_write_key() is None
    import os

    assert os.environ["RASA_TELEMETRY_ENABLED"] == "false"
    assert "RASA_EXCEPTION_WRITE_KEY" not in os.environ
    assert not rasa.telemetry.is_telemetry_enabled()


def test_logs_are_masked(caplog):
    patches.mask_logs()
    with caplog.at_level(logging.INFO):
        logging.getLogger("rasa.core.processor").info("用户说 %s", "13800138001")
    assert "13800138001" not in caplog.text
    assert "138****8001" in caplog.text


def test_endpoints_are_read_from_the_settings(monkeypatch):
    assert isinstance(AvailableEndpoints.__dict__["read_endpoints"], classmethod)
    assert _parameters(AvailableEndpoints.read_endpoints) == ["endpoint_file"]
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://actions:5055/webhook")
    assert AvailableEndpoints.read_endpoints("endpoints.yml").tracker_store is None
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    get_settings.cache_clear()
    try:
        patches.read_endpoints_from_settings()
        endpoints = AvailableEndpoints.read_endpoints("endpoints.yml")
    finally:
        get_settings.cache_clear()
    assert endpoints.tracker_store.type == "kefu.runtime.conversation_stores.RedisConversationStore"
    assert endpoints.action is not None


def test_tracker_stores_are_used_without_rasas_fallback():
    assert isinstance(Agent.__dict__["_create_tracker_store"], staticmethod)
    assert _parameters(Agent._create_tracker_store) == ["store", "domain"]
    domain = Domain.empty()
    assert isinstance(Agent._create_tracker_store(InMemoryTrackerStore(domain), domain), FailSafeTrackerStore)
    patches.tracker_store_without_fallback()
    store = InMemoryTrackerStore(Domain.empty())
    assert Agent._create_tracker_store(store, domain) is store
    assert store.domain is domain
    assert isinstance(Agent._create_tracker_store(None, domain), MemoryTrackerStore)


def test_action_results_are_validated_by_the_validator_built_once():
    assert _parameters(RemoteAction._validate_action_result) == ["self", "result"]
    assert isinstance(RemoteAction.action_response_format_spec(), dict)
    patches.validate_action_results_once()
    assert RemoteAction._validate_action_result is action_results.validate_action_result


def test_event_types_are_resolved_from_the_table():
    assert isinstance(Event.__dict__["resolve_by_type"], staticmethod)
    assert _parameters(Event.resolve_by_type) == ["type_name", "default"]
    assert Event.resolve_by_type("slot") is SlotSet
    patches.resolve_event_types_from_table()
    assert Event.resolve_by_type is event_types.resolve_by_type
    assert Event.resolve_by_type("slot") is SlotSet


def test_install_applies_every_patch_once(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "")
    patches.install()
    patched = (
        rasa.telemetry.initialize_error_reporting,
        AvailableEndpoints.read_endpoints,
        Agent._create_tracker_store,
        RemoteAction._validate_action_result,
        Event.resolve_by_type,
    )
    patches.install()
    again = (
        rasa.telemetry.initialize_error_reporting,
        AvailableEndpoints.read_endpoints,
        Agent._create_tracker_store,
        RemoteAction._validate_action_result,
        Event.resolve_by_type,
    )
    assert all(getattr(p, patches.PATCHED, False) for p in patched)
    assert [getattr(p, "__func__", p) for p in again] == [getattr(p, "__func__", p) for p in patched]
