import json
import logging
import re
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import UserMessage

from kefu.channels import rest as rest_channel
from kefu.channels.message_guard import FAILURE_REPLY
from kefu.channels.rest import BadRestRequest, RestInput, RestMessage, parse_rest_body
from kefu.security.verification import CLIENT_IP_KEY
from kefu.settings import Settings


def body(**fields) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", "JSON"),
        (b"", "JSON"),
        (b"\xff\xfe{", "JSON"),
        (b"[" * 60_000, "JSON"),
        (b"[]", "JSON"),
        (b'"hi"', "JSON"),
        (b"null", "JSON"),
        (body(message="hi"), "sender"),
        (body(sender=None, message="hi"), "sender"),
        (body(sender=7, message="hi"), "sender"),
        (body(sender="", message="hi"), "sender"),
        (body(sender=" ", message="hi"), "sender"),
        (body(sender="u" * 256, message="hi"), "sender"),
        (body(sender="u1"), "message"),
        (body(sender="u1", message=None), "message"),
        (body(sender="u1", message=7), "message"),
        (body(sender="u1", message={"text": "hi"}), "message"),
        (body(sender="u1", message="hi", metadata="t=1"), "metadata"),
        (body(sender="u1", message="hi", metadata=[1]), "metadata"),
        (body(sender="u1", message="hi", input_channel=1), "input_channel"),
    ],
)
def test_malformed_bodies_are_refused_in_chinese_and_english(raw, field):
    with pytest.raises(BadRestRequest) as refused:
        parse_rest_body(raw, "rest")

    explanation = str(refused.value)
    assert field in explanation
    assert re.search(r"[\u4e00-\u9fff]", explanation)
    assert re.search(r"The (request body|field)", explanation)


def test_oversized_bodies_and_metadata_are_413():
    with pytest.raises(BadRestRequest) as too_big:
        parse_rest_body(b" " * 70_000, "rest", max_body_bytes=65_536)
    assert too_big.value.status == 413 and "65536" in str(too_big.value)

    huge = body(sender="u1", message="hi", metadata={"blob": "x" * 20_000})
    with pytest.raises(BadRestRequest) as too_much:
        parse_rest_body(huge, "rest", max_metadata_bytes=8192)
    assert too_much.value.status == 413 and "metadata" in str(too_much.value)


def test_reserved_metadata_keys_never_reach_the_assistant():
    forged = {"user_token": "t", "admin_session": {"owner": "victim"}, "sdk_session": {"app": "x"}}
    parsed = parse_rest_body(body(sender="u1", message="hi", metadata=forged), "rest")

    assert parsed.metadata == {"user_token": "t"}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"sender": "\\ud800", "message": "hi"}',
        b'{"sender": "u1", "message": "hi", "metadata": {"a": "\\udfff"}}',
    ],
)
def test_lone_surrogates_in_sender_or_metadata_are_a_400(raw):
    with pytest.raises(BadRestRequest) as refused:
        parse_rest_body(raw, "rest")
    assert refused.value.status == 400


def test_a_well_formed_body():
    parsed = parse_rest_body(body(sender="u1", message=" 你好 ", metadata={"user_token": "t"}), "rest")

    assert parsed == RestMessage("u1", " 你好 ", "rest", {"user_token": "t"})


def test_optional_fields_default():
    assert parse_rest_body(body(sender="u1", message=""), "rest") == RestMessage("u1", "", "rest", None)
    assert parse_rest_body(body(sender="u1", message="hi", metadata=None), "rest").metadata is None


def test_the_client_may_name_its_input_channel_as_with_rasa():
    assert (
        parse_rest_body(body(sender="u1", message="hi", input_channel="app"), "rest").input_channel == "app"
    )
    assert parse_rest_body(body(sender="u1", message="hi", input_channel=""), "rest").input_channel == "rest"


def test_keeps_rasas_channel_name_and_url():
    channel = RestInput(max_message_chars=10)
    assert (channel.name(), channel.url_prefix()) == ("rest", "rest")


def test_rasas_from_credentials_builds_this_channel_with_the_settings_limit(monkeypatch):
    monkeypatch.setattr(rest_channel, "get_settings", lambda: Settings(max_message_chars=42))

    channel = RestInput.from_credentials({})

    assert type(channel) is RestInput
    assert channel.max_message_chars == 42


@pytest.mark.parametrize("limit", [0, -1])
def test_refuses_an_unusable_message_limit(limit):
    with pytest.raises(ValueError, match="MAX_MESSAGE_CHARS"):
        RestInput(max_message_chars=limit)


async def test_replies_collected_before_a_failure_are_returned_and_the_failure_logged(caplog):
    async def half_answering(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "稍等")
        raise RuntimeError("action server down")

    replies = await RestInput(max_message_chars=10)._collect_replies(
        half_answering, RestMessage("u1", "你好", "rest", None)
    )

    assert replies == [{"recipient_id": "u1", "text": "稍等"}]
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "action server down" in caplog.text


async def test_a_failure_before_any_reply_is_answered_with_an_apology(caplog):
    async def failing(message: UserMessage) -> None:
        raise ConnectionError("tracker store unreachable")

    replies = await RestInput(max_message_chars=10)._collect_replies(
        failing, RestMessage("u1", "你好", "rest", None)
    )

    assert replies == [{"recipient_id": "u1", "text": FAILURE_REPLY}]
    assert "抱歉" in FAILURE_REPLY and "转人工" in FAILURE_REPLY
    assert "tracker store unreachable" in caplog.text


async def test_the_server_writes_the_customers_address_into_the_metadata():
    """For the verification lock-out (kefu/security/verification.py); a client's own value is replaced."""
    received: list[UserMessage] = []

    async def assistant(message: UserMessage) -> None:
        received.append(message)

    channel = RestInput(max_message_chars=100)
    blueprint = channel.blueprint(assistant)
    [receive] = [r.handler for r in blueprint._future_routes if r.uri == "/webhook"]
    forged = {"user_token": "t", CLIENT_IP_KEY: "198.51.100.1"}
    request = SimpleNamespace(
        body=json.dumps({"sender": "u1", "message": "你好", "metadata": forged}).encode(),
        args={},
        remote_addr="",
        ip="203.0.113.9",
        headers={},
        app=SimpleNamespace(ctx=SimpleNamespace(agent=None)),  # a new conversation
    )
    await receive(request)
    [message] = received
    assert message.metadata == {"user_token": "t", CLIENT_IP_KEY: "203.0.113.9"}
