"""The admin API's route table: every endpoint has a handler, a spec entry and checked parameters."""

from __future__ import annotations

import pytest

from kefu.channels.admin_handlers import Handlers
from kefu.channels.admin_routes import ENDPOINTS, Endpoint, handoff_id, openapi_spec
from kefu.channels.http import ApiError


def test_every_endpoint_has_a_handler_and_is_in_the_spec():
    paths = openapi_spec()["paths"]
    for endpoint in ENDPOINTS:
        assert callable(getattr(Handlers, endpoint.handler)), endpoint.handler
        assert endpoint.method.lower() in paths[endpoint.path], (endpoint.method, endpoint.path)


def test_parameters_are_routed_as_strings_for_the_guard_to_check():
    endpoint = Endpoint("POST", "/handoffs/{handoff_id}/reply", None, "reply_handoff")
    assert endpoint.sanic_path == "/handoffs/<handoff_id:str>/reply"


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "1.5", "１２", "9" * 19, ""])
def test_a_malformed_handoff_id_is_not_found(raw):
    with pytest.raises(ApiError) as refused:
        handoff_id(raw)
    assert (refused.value.status, refused.value.code) == (404, "not_found")


def test_a_handoff_id_is_a_positive_whole_number():
    assert handoff_id("42") == 42
    assert handoff_id(7) == 7
