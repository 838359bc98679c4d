from __future__ import annotations

from wechatpy.parser import parse_message

from kefu.wechat.turns import MENU_UNKNOWN, UNSUPPORTED, VOICE_UNREADABLE, Turn, mp_turn, wecom_turn

INTENTS = frozenset({"greet", "check_order"})


def message(kind: str, **fields: str):
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return parse_message(
        f"<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
        f"<MsgType>{kind}</MsgType>{body}</xml>"
    )


def test_official_account_messages():
    assert mp_turn(message("text", Content="运费多少"), INTENTS) == Turn(text="运费多少")
    assert mp_turn(message("voice", Recognition="查订单"), INTENTS) == Turn(text="查订单")
    assert mp_turn(message("voice", MediaId="m"), INTENTS) == Turn(reply=VOICE_UNREADABLE)
    assert mp_turn(message("image", PicUrl="http://x"), INTENTS) == Turn(reply=UNSUPPORTED)
    assert mp_turn(message("event", Event="subscribe"), INTENTS) == Turn(text="/greet")
    assert mp_turn(message("event", Event="CLICK", EventKey="check_order"), INTENTS) == Turn(
        text="/check_order"
    )
    assert mp_turn(message("event", Event="CLICK", EventKey="nope"), INTENTS) == Turn(reply=MENU_UNKNOWN)
    assert mp_turn(message("event", Event="unsubscribe"), INTENTS) == Turn()


def test_binding_commands():
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.sig"
    assert mp_turn(message("text", Content=f"绑定 {token}"), INTENTS) == Turn(bind_token=token)
    assert mp_turn(message("text", Content="解除绑定"), INTENTS) == Turn(unbind=True)
    assert mp_turn(message("text", Content="绑定手机号"), INTENTS) == Turn(text="绑定手机号")


def test_wecom_messages():
    assert wecom_turn({"msgtype": "text", "text": {"content": "你好"}}, INTENTS) == Turn(text="你好")
    assert wecom_turn({"msgtype": "text", "text": {"menu_id": "check_order"}}, INTENTS) == Turn(
        text="/check_order"
    )
    assert wecom_turn({"msgtype": "event", "event": {"event_type": "enter_session"}}, INTENTS) == Turn(
        text="/greet"
    )
    assert wecom_turn({"msgtype": "voice"}, INTENTS) == Turn(reply=VOICE_UNREADABLE)
    assert wecom_turn({"msgtype": "text", "text": {"content": 5}}, INTENTS) == Turn(reply=UNSUPPORTED)
    assert wecom_turn({"msgtype": "image"}, INTENTS) == Turn(reply=UNSUPPORTED)
