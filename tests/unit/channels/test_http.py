"""The HTTP plumbing the channels share answers every API's errors the same way."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from kefu.channels.http import ApiError, bearer_token, json_object, ready_agent


def test_a_body_must_be_a_json_object_within_the_limit():
    assert json_object('{"text": "你好"}'.encode(), 100) == {"text": "你好"}
    assert json_object(b"", 100) == {}
    with pytest.raises(ApiError) as too_large:
        json_object(b'{"text": "' + b"x" * 200 + b'"}', 100)
    assert (too_large.value.status, too_large.value.code) == (413, "too_large")
    with pytest.raises(ApiError) as broken:
        json_object(b"{not json", 100)
    assert broken.value.status == 400 and "JSON" in str(broken.value)
    with pytest.raises(ApiError) as a_list:
        json_object(b"[1, 2]", 100, example='{"text": "你好"}')
    assert '例如 {"text": "你好"}' in str(a_list.value)


def test_an_error_answers_json_with_the_headers_its_status_needs():
    limited = ApiError("请求太频繁。 Too many requests.", 429, "rate_limited", retry_after=7).as_response()
    assert limited.status == 429 and limited.headers["Retry-After"] == "7"
    assert json.loads(limited.body) == {"error": "请求太频繁。 Too many requests.", "code": "rate_limited"}
    unauthorized = ApiError("请先登录。", 401, "unauthorized").as_response()
    assert unauthorized.headers["WWW-Authenticate"] == "Bearer"
    assert "WWW-Authenticate" not in ApiError("坏请求。").as_response().headers


def _request(headers=None, agent=None):
    return SimpleNamespace(headers=headers or {}, app=SimpleNamespace(ctx=SimpleNamespace(agent=agent)))


def test_only_a_bearer_scheme_gives_a_token():
    assert bearer_token(_request({"authorization": "Bearer abc "})) == "abc"
    assert bearer_token(_request({"authorization": "bearer abc"})) == "abc"
    assert bearer_token(_request({"authorization": "Basic abc"})) is None
    assert bearer_token(_request({"authorization": "Bearer  "})) is None
    assert bearer_token(_request()) is None


def test_the_agent_is_unavailable_until_a_model_is_loaded():
    with pytest.raises(ApiError) as none:
        ready_agent(_request())
    assert (none.value.status, none.value.code) == (503, "unavailable")
    loading = SimpleNamespace(is_ready=lambda: False)
    with pytest.raises(ApiError):
        ready_agent(_request(agent=loading))
    ready = SimpleNamespace(is_ready=lambda: True)
    assert ready_agent(_request(agent=ready)) is ready
