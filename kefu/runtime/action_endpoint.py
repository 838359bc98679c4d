"""The action server endpoint, with an apology when the action server cannot be reached.

When a custom action's HTTP call fails, Rasa 3.6 (``RemoteAction.run``) raises, and its processor
logs the error and carries on without the action's events: the customer gets no answer at all.
This endpoint answers such a call itself, in the action server's response format: a polite
apology with a way to a human, and a follow-up ``action_listen`` so the turn ends there instead
of the policies predicting the failing action again. Nothing is stored for the failed action, so
the next message, once the action server is back, is handled normally.

Only failures of the action server itself are covered: it is down (connection refused, timeout)
or answers 5xx. A 400 is a deliberate rejection (a form's validation) and goes to Rasa as before.

Calls also reuse their connections: Rasa 3.6 opens a new HTTP session, and so a new TCP
connection, for every action call. Idle connections are dropped after ``KEEPALIVE_SECONDS``, well
before the action server (Sanic: 5 s) would close them under a request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, ClientResponseError, EndpointConfig

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 2.0

HANDOFF_ACTION = "action_request_human"

APOLOGY = (
    "非常抱歉，系统暂时出了点小状况，刚才的问题没能处理好😣。"
    "您可以稍后再试一次；着急的话，可以发送“转人工”，让人工客服为您处理（在线时间每天9:00-21:00）。"
)
HANDOFF_APOLOGY = (
    "非常抱歉，转接系统暂时出了点小状况，现在没能为您转接人工客服😣。"
    "请稍后再发送一次“转人工”，人工客服在线时间是每天9:00-21:00，给您添麻烦了。"
)


def unavailable_response(action_name: str) -> dict[str, Any]:
    """What the customer is told instead of ``action_name``'s answer, as an action server response."""
    responses: list[dict[str, Any]]
    if action_name == HANDOFF_ACTION:
        responses = [{"text": HANDOFF_APOLOGY}]
    else:
        responses = [{"text": APOLOGY, "buttons": [{"title": "转人工", "payload": "/request_human"}]}]
    return {"events": [{"event": "followup", "name": "action_listen"}], "responses": responses}


class ActionServerEndpoint(EndpointConfig):
    """``action_endpoint`` whose calls answer with an apology when the action server is unavailable."""

    @classmethod
    def wrap(cls, endpoint: EndpointConfig) -> ActionServerEndpoint:
        return cls(
            url=endpoint.url,
            params=endpoint.params,
            headers=endpoint.headers,
            basic_auth=endpoint.basic_auth,
            token=endpoint.token,
            token_name=endpoint.token_name,
            cafile=endpoint.cafile,
            **endpoint.kwargs,
        )

    def session(self) -> Any:
        """The event loop's long-lived session, for ``async with`` in Rasa's ``request``."""
        loop = asyncio.get_running_loop()
        sessions: dict[int, aiohttp.ClientSession] = self.__dict__.setdefault("_sessions", {})
        session = sessions.get(id(loop))
        if session is None or session.closed:
            auth = aiohttp.BasicAuth(**self.basic_auth) if self.basic_auth else None
            session = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
            )
            sessions[id(loop)] = session
        return _Borrowed(session)

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().request(*args, **kwargs)
        except ClientResponseError as exc:
            if exc.status < 500:
                raise
            failure = f"answered {exc.status}"
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
            failure = f"is unreachable ({exc or type(exc).__name__})"
        action = _action_name(kwargs.get("json"))
        logger.error(
            "The action server at %s %s while running %r; the customer was sent an apology.",
            self.url,
            failure,
            action,
        )
        return unavailable_response(action)


class _Borrowed:
    """``async with`` on a shared session that leaves it open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def _action_name(body: Any) -> str:
    return body.get("next_action", "") if isinstance(body, dict) else ""
