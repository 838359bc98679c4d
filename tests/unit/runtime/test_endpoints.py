"""The endpoints Rasa runs with, built from the settings on top of endpoints.yml."""

from __future__ import annotations

import pytest

from kefu.runtime import endpoints
from kefu.runtime.action_endpoint import ActionServerEndpoint
from kefu.settings import Settings

STORES = "kefu.runtime.conversation_stores"


def test_without_redis_conversations_stay_in_memory():
    settings = Settings(redis_url="")
    assert endpoints.tracker_store(settings) == {"type": f"{STORES}.MemoryTrackerStore"}
    assert endpoints.lock_store(settings) is None


def test_with_redis_both_stores_are_in_redis():
    settings = Settings(redis_url="redis://redis:6379/0")
    assert endpoints.tracker_store(settings) == {"type": f"{STORES}.RedisConversationStore"}
    assert endpoints.lock_store(settings) == {"type": f"{STORES}.RedisTicketLockStore"}


def test_the_projects_endpoints_file_gets_the_generated_sections(monkeypatch):
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://actions:5055/webhook")
    available = endpoints.read_endpoints("endpoints.yml", Settings(redis_url="redis://redis:6379/0"))
    assert isinstance(available.action, ActionServerEndpoint)
    assert available.action.url == "http://actions:5055/webhook"
    assert available.tracker_store.type == f"{STORES}.RedisConversationStore"
    assert available.lock_store.type == f"{STORES}.RedisTicketLockStore"


def test_a_store_written_in_the_endpoints_file_is_refused(tmp_path):
    file = tmp_path / "endpoints.yml"
    file.write_text("tracker_store:\n  type: redis\n  url: localhost\n", encoding="utf-8")
    with pytest.raises(ValueError, match="configures tracker_store, which is set from the environment"):
        endpoints.read_endpoints(str(file), Settings())
