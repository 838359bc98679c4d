"""WeChat's HTTP API: the access_token (cached, shared, refreshed early and on 40001/42001), the
公众号 customer-service message (客服消息) and WeCom customer service's ``kf`` calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from kefu.wechat.state import TokenCache

logger = logging.getLogger(__name__)

# Error codes that mean the access_token is no longer good (invalid, expired, not the latest).
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
REFRESH_MARGIN_SECONDS = 300  # a token is replaced this long before WeChat says it expires
TIMEOUT_SECONDS = 5.0
RETRY_PAUSE_SECONDS = 0.5


class WechatApiError(RuntimeError):
    """WeChat answered with an error code, or not at all (``code`` -1)."""

    def __init__(self, message: str, code: int = -1) -> None:
        super().__init__(message)
        self.code = code


class WechatApi:
    """One account's API: ``token_path``/``token_params`` get the token (公众号 or WeCom)."""

    def __init__(
        self,
        base_url: str,
        token_path: str,
        token_params: Mapping[str, str],
        cache: TokenCache,
        cache_key: str,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token_path = token_path
        self._token_params = dict(token_params)
        self._cache = cache
        self._cache_key = cache_key
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._lock: asyncio.Lock | None = None

    def _http(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._lock = asyncio.Lock()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, path: str, params: Mapping[str, str], body: Any = None) -> dict:
        """One call with one retry on a network error or 5xx; raises :class:`WechatApiError`."""
        for attempt in (1, 2):
            try:
                async with self._http().request(
                    method, f"{self.base_url}/{path}", params=params, json=body
                ) as answer:
                    if answer.status >= 500:
                        raise WechatApiError(f"{path}: HTTP {answer.status}")
                    payload = await answer.json(content_type=None)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, WechatApiError) as exc:
                if attempt == 2:
                    raise WechatApiError(f"{path}: no usable answer ({type(exc).__name__}: {exc})") from exc
                await asyncio.sleep(RETRY_PAUSE_SECONDS)
                continue
            if not isinstance(payload, dict):
                raise WechatApiError(f"{path}: the answer is not a JSON object")
            return payload
        raise AssertionError("unreachable")

    async def token(self) -> str:
        """A valid access_token: the shared cached one, else a new one from WeChat."""
        cached = await self._cache.get(self._cache_key)
        if cached:
            return cached
        self._http()
        assert self._lock is not None
        async with self._lock:  # one fetch per process at a time
            cached = await self._cache.get(self._cache_key)
            if cached:
                return cached
            answer = await self._request("GET", self._token_path, self._token_params)
            token, expires_in = answer.get("access_token"), answer.get("expires_in")
            if not isinstance(token, str) or not token:
                code = answer.get("errcode", -1)
                raise WechatApiError(
                    f"{self._token_path}: no access_token (errcode {code}: {answer.get('errmsg')}); "
                    "check the app id / corp id and secret, and the server's IP allow-list",
                    code if isinstance(code, int) else -1,
                )
            ttl = (expires_in if isinstance(expires_in, int) else 7200) - REFRESH_MARGIN_SECONDS
            await self._cache.set(self._cache_key, token, max(ttl, 60))
            return token

    async def call(self, path: str, body: Mapping[str, Any]) -> dict:
        """POSTs ``body`` to ``path`` with the token; a stale token is replaced once and the call
        repeated. Returns the answer; raises :class:`WechatApiError` on a non-zero errcode."""
        for attempt in (1, 2):
            token = await self.token()
            answer = await self._request("POST", path, {"access_token": token}, dict(body))
            code = answer.get("errcode", 0)
            if code in TOKEN_ERRORS and attempt == 1:
                logger.info(
                    "WeChat API: the access_token was refused (errcode %s); fetching a new one.", code
                )
                await self._cache.drop(self._cache_key, token)
                continue
            if code != 0:
                raise WechatApiError(f"{path}: errcode {code} ({answer.get('errmsg')})", int(code))
            return answer
        raise AssertionError("unreachable")


class MpApi(WechatApi):
    """The Official Account (公众号) API."""

    def __init__(self, base_url: str, app_id: str, secret: str, cache: TokenCache, **kwargs: Any) -> None:
        params = {"grant_type": "client_credential", "appid": app_id, "secret": secret}
        super().__init__(base_url, "cgi-bin/token", params, cache, f"mp:{app_id}", **kwargs)

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (客服消息) to ``openid``."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self.call("cgi-bin/message/custom/send", body)


class WecomApi(WechatApi):
    """WeCom customer service (微信客服): ``cgi-bin/kf/*``."""

    def __init__(self, base_url: str, corp_id: str, secret: str, cache: TokenCache, **kwargs: Any) -> None:
        params = {"corpid": corp_id, "corpsecret": secret}
        super().__init__(base_url, "cgi-bin/gettoken", params, cache, f"wecom:{corp_id}", **kwargs)

    async def sync_msg(self, cursor: str, token: str, open_kfid: str, limit: int = 1000) -> dict:
        """One page of messages after ``cursor`` (``msg_list``, ``next_cursor``, ``has_more``)."""
        body: dict[str, Any] = {"cursor": cursor, "token": token, "limit": limit, "open_kfid": open_kfid}
        return await self.call("cgi-bin/kf/sync_msg", {k: v for k, v in body.items() if v})

    async def send_text(self, external_userid: str, open_kfid: str, text: str) -> None:
        body = {
            "touser": external_userid,
            "open_kfid": open_kfid,
            "msgtype": "text",
            "text": {"content": text},
        }
        await self.call("cgi-bin/kf/send_msg", body)

    async def service_state(self, open_kfid: str, external_userid: str) -> int:
        """The session's state: 0 new, 1 with the bot, 2 queued for a human, 3 with a human, 4 ended."""
        body = {"open_kfid": open_kfid, "external_userid": external_userid}
        return int((await self.call("cgi-bin/kf/service_state/get", body)).get("service_state", 0))

    async def transfer(self, open_kfid: str, external_userid: str, state: int, servicer: str = "") -> None:
        """Moves the session to ``state`` (2: WeCom's queue for human agents; 3 needs ``servicer``)."""
        body: dict[str, Any] = {
            "open_kfid": open_kfid,
            "external_userid": external_userid,
            "service_state": state,
        }
        if servicer:
            body["servicer_userid"] = servicer
        await self.call("cgi-bin/kf/service_state/trans", body)
