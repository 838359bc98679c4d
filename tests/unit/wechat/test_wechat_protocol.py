"""Signatures, crypto and XML with the samples of WeChat's documentation (as in wechatpy's tests),
and XML that is malformed, huge, typed wrongly or tries entity expansion or an external entity."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.wechat.protocol import MAX_BODY_BYTES, BadCallback, CallbackCodec, Unsigned, parse_xml, signature

# WeChat's documented WeCom sample (token, EncodingAESKey, CorpID, echostr and message).
SAMPLE = CallbackCodec(
    "123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a", wecom=True
)
ECHO = {
    "msg_signature": "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96",
    "timestamp": "1411443780",
    "nonce": "437374425",
    "echostr": "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==",
}
MESSAGE = b"""<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>
<Encrypt><![CDATA[RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=]]></Encrypt>
<AgentID><![CDATA[1]]></AgentID>
</xml>"""
MESSAGE_PARAMS = {
    "msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
    "timestamp": "1411525903",
    "nonce": "461056294",
}


def test_signature_is_sha1_of_the_sorted_parts():
    expected = hashlib.sha1("".join(sorted(["tok", "1410685589", "nonce1"])).encode()).hexdigest()
    assert signature("tok", "1410685589", "nonce1") == expected


def test_the_documented_echostr_handshake():
    assert SAMPLE.echo(ECHO, now=1411443780)
    with pytest.raises(Unsigned):
        SAMPLE.echo({**ECHO, "nonce": "437374424"}, now=1411443780)


def test_the_documented_message_decrypts():
    message = SAMPLE.decode(MESSAGE_PARAMS, MESSAGE, now=1411525903)
    assert (message.type, message.content, message.source) == ("text", "test", "messense")


@pytest.mark.parametrize(
    "params",
    [
        {**MESSAGE_PARAMS, "msg_signature": "0" * 40},
        {**MESSAGE_PARAMS, "nonce": "461056295"},
        {k: v for k, v in MESSAGE_PARAMS.items() if k != "msg_signature"},
        {**MESSAGE_PARAMS, "timestamp": "abc"},
    ],
)
def test_forged_signatures_are_refused(params):
    with pytest.raises(Unsigned):
        SAMPLE.decode(params, MESSAGE, now=1411525903)


def test_a_stale_signature_is_refused_as_a_replay():
    with pytest.raises(Unsigned, match="stale"):
        SAMPLE.decode(MESSAGE_PARAMS, MESSAGE, now=1411525903 + 301)


def test_plain_mode_checks_the_signature_and_replies_in_clear():
    codec = CallbackCodec("tok", "", "wxapp")
    params = {"timestamp": "1700000000", "nonce": "n1", "signature": signature("tok", "1700000000", "n1")}
    body = (
        b"<xml><ToUserName>gh_1</ToUserName><FromUserName>oUser</FromUserName><CreateTime>1700000000"
        b"</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>42</MsgId></xml>"
    )
    message = codec.decode(params, body, now=1700000000)
    assert (message.content, message.id) == ("hi", 42)
    reply = codec.reply(message, "您好", "n1", now=1700000001)
    assert "<ToUserName><![CDATA[oUser]]></ToUserName>" in reply and "您好" in reply
    with pytest.raises(Unsigned):
        codec.decode({**params, "signature": "x"}, body, now=1700000000)


BOMB = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><xml><Content>&lol3;</Content></xml>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><Content>&xxe;</Content></xml>"""
XXE_PARAMETER = b"""<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><xml/>"""


@pytest.mark.parametrize(
    "body",
    [
        BOMB,
        XXE,
        XXE_PARAMETER,
        b"<!doctype xml><xml/>",
        b"<xml><a>" * 10 + b"x",
        b"not xml at all",
        b"",
        b"<root><a>1</a></root>",
        b"<xml>text only</xml>",
        b"\xff\xfe<\x00x\x00",
        b"<xml><Content>" + b"x" * MAX_BODY_BYTES + b"</Content></xml>",
    ],
)
def test_hostile_or_broken_xml_is_refused_without_resolving_anything(body):
    with pytest.raises(BadCallback):
        parse_xml(body)


@pytest.mark.parametrize(
    "fields",
    [
        "<MsgType>text</MsgType>",
        "<MsgType><a>1</a></MsgType><FromUserName>o</FromUserName><ToUserName>g</ToUserName>",
        "<MsgType>text</MsgType><FromUserName>o</FromUserName><ToUserName>g</ToUserName><MsgId>x</MsgId>",
        "<MsgType>text</MsgType><FromUserName>o</FromUserName><ToUserName>g</ToUserName><CreateTime>1e9</CreateTime>",
        "<MsgType>event</MsgType><FromUserName>o</FromUserName><ToUserName>g</ToUserName><Event><x/></Event>",
    ],
)
def test_messages_with_missing_or_wrongly_typed_fields_are_refused(fields):
    codec = CallbackCodec("tok", "", "wxapp")
    params = {"timestamp": "1700000000", "nonce": "n", "signature": signature("tok", "1700000000", "n")}
    with pytest.raises(BadCallback):
        codec.decode(params, f"<xml>{fields}</xml>".encode(), now=1700000000)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda t: f"<xml>{t}</xml>".encode()))
def test_fuzzed_bodies_either_parse_or_are_refused_cleanly(body):
    codec = CallbackCodec("tok", "", "wxapp")
    params = {"timestamp": "1700000000", "nonce": "n", "signature": signature("tok", "1700000000", "n")}
    with contextlib.suppress(BadCallback):
        codec.decode(params, body, now=1700000000)
