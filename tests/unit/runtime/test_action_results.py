"""The action server's answers are validated as Rasa validates them, with a validator built once."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from kefu.runtime import action_results, patches

GOOD = {
    "events": [{"event": "slot", "name": "order_id", "value": "LT2026110103"}],
    "responses": [{"text": "您的订单已发货"}],
}
BAD = [
    {"events": "not a list"},
    {"events": [{"name": "no event type"}]},
    {"responses": "您的订单已发货"},
]


@pytest.fixture
def action():
    return RemoteAction("action_handle_order_request", None)


def test_a_well_formed_answer_passes(action):
    assert action_results.validate_action_result(action, GOOD) is True


@pytest.mark.parametrize("result", BAD)
def test_a_malformed_answer_fails_with_rasas_error_and_hint(action, result):
    with pytest.raises(jsonschema.ValidationError) as ours:
        action_results.validate_action_result(action, result)
    with pytest.raises(jsonschema.ValidationError) as rasas:
        RemoteAction._validate_action_result(action, result)
    assert ours.value.message == rasas.value.message
    assert "custom-actions" in ours.value.message


def test_install_replaces_rasas_check_and_checks_the_schema_once(monkeypatch, action):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    action_results._validator.cache_clear()
    checked = []
    original = jsonschema.Draft202012Validator.check_schema
    monkeypatch.setattr(
        jsonschema.Draft202012Validator,
        "check_schema",
        classmethod(lambda cls, schema, **kw: checked.append(1) or original.__func__(cls, schema, **kw)),
    )
    patches.validate_action_results_once()
    for _ in range(5):
        assert action._validate_action_result(GOOD) is True
    with pytest.raises(jsonschema.ValidationError):
        action._validate_action_result(BAD[0])
    assert len(checked) == 1
