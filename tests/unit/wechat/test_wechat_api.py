"""The API client against the stand-in for WeChat's servers: token cache, refresh, retries."""

from __future__ import annotations

import asyncio

import pytest

from kefu.wechat.api import MpApi, WechatApiError, WecomApi
from kefu.wechat.state import MemoryTokenCache
from tests.wechat_standin import CORP_ID, CORP_SECRET, MP_APP_ID, MP_SECRET, OPEN_KFID


def run(coroutine):
    return asyncio.run(coroutine)


async def with_api(api, work):
    try:
        return await work(api)
    finally:
        await api.close()


def test_the_token_is_fetched_once_and_shared(standin):
    cache = MemoryTokenCache()

    async def work(api):
        await api.send_text("oUser", "一")
        await MpApi(standin.url, MP_APP_ID, MP_SECRET, cache).send_text("oUser", "二")

    run(with_api(MpApi(standin.url, MP_APP_ID, MP_SECRET, cache), work))
    assert len(standin.sent("/cgi-bin/token")) == 1
    assert standin.texts_to("oUser") == ["一", "二"]


def test_an_expired_token_is_replaced_and_the_call_repeated(standin):
    async def work(api):
        await api.send_text("oUser", "一")
        standin.expire_tokens()
        await api.send_text("oUser", "二")

    run(with_api(MpApi(standin.url, MP_APP_ID, MP_SECRET, MemoryTokenCache()), work))
    assert len(standin.sent("/cgi-bin/token")) == 2
    assert standin.texts_to("oUser") == ["一", "二"]


def test_a_5xx_is_retried_once_then_reported(standin):
    api = MpApi(standin.url, MP_APP_ID, MP_SECRET, MemoryTokenCache())
    standin.fail_next = 1
    run(with_api(api, lambda a: a.send_text("oUser", "一")))
    assert standin.texts_to("oUser") == ["一"]
    standin.fail_next = 10
    with pytest.raises(WechatApiError):
        run(with_api(MpApi(standin.url, MP_APP_ID, MP_SECRET, MemoryTokenCache()), lambda a: a.token()))


def test_wrong_credentials_name_the_fix(standin):
    with pytest.raises(WechatApiError, match="secret"):
        run(with_api(MpApi(standin.url, MP_APP_ID, "wrong", MemoryTokenCache()), lambda a: a.token()))


def test_a_slow_server_times_out(standin):
    standin.delay = 0.5
    api = MpApi(standin.url, MP_APP_ID, MP_SECRET, MemoryTokenCache(), timeout=0.2)
    with pytest.raises(WechatApiError, match="TimeoutError"):
        run(with_api(api, lambda a: a.token()))


def test_wecom_sync_send_and_transfer(standin):
    standin.queue_kf_text("wmCustomer", "你好")

    async def work(api):
        page = await api.sync_msg("", "cbtoken", OPEN_KFID)
        await api.send_text("wmCustomer", OPEN_KFID, "您好")
        before = await api.service_state(OPEN_KFID, "wmCustomer")
        await api.transfer(OPEN_KFID, "wmCustomer", 2)
        return page, before, await api.service_state(OPEN_KFID, "wmCustomer")

    page, before, after = run(with_api(WecomApi(standin.url, CORP_ID, CORP_SECRET, MemoryTokenCache()), work))
    assert [m["text"]["content"] for m in page["msg_list"]] == ["你好"]
    assert (page["next_cursor"], before, after) == ("1", 1, 2)
    assert standin.texts_to("wmCustomer") == ["您好"]
    assert standin.sent("/cgi-bin/kf/sync_msg")[0].body == {
        "token": "cbtoken",
        "limit": 1000,
        "open_kfid": OPEN_KFID,
    }
