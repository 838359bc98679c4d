"""The asyncio client: the same API as :class:`~longtang_sdk.Client`, with coroutines."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Mapping, Sequence, TypeVar

from longtang_sdk import errors
from longtang_sdk._protocol import ApiProtocol, default_rand, error_for, is_retryable
from longtang_sdk.config import ClientConfig, as_config
from longtang_sdk.models import MessageResponse, Session
from longtang_sdk.transport import AsyncTransport, HttpRequest, HttpResponse, default_async_transport

logger = logging.getLogger("longtang_sdk")

T = TypeVar("T")


class AsyncClient:
    """Talks to the assistant from asyncio code; one instance per event loop.

    Takes the same ``config`` as :class:`~longtang_sdk.Client`. Uses aiohttp when it is installed
    (``pip install longtang-sdk[aiohttp]``), else the standard library in a worker thread. Close it
    with ``await client.aclose()`` or use ``async with AsyncClient(config) as client``.
    """

    _sleep: Callable[[float], Awaitable[None]] = staticmethod(asyncio.sleep)

    def __init__(
        self,
        config: ClientConfig | Mapping[str, Any] | None = None,
        *,
        transport: AsyncTransport | None = None,
        **settings: Any,
    ) -> None:
        self.config = as_config(config, settings)
        self._protocol = ApiProtocol(self.config)
        self._transport: AsyncTransport = transport or default_async_transport()
        self._rand = default_rand

    async def create_session(
        self, user_id: str | None = None, channel: str = "api", context: Mapping[str, Any] | None = None
    ) -> Session:
        """See :meth:`longtang_sdk.Client.create_session`."""
        return await self._call(
            self._protocol.create_session(user_id, channel, context), self._protocol.session
        )

    async def get_session(self, session_id: str | Session) -> Session:
        """See :meth:`longtang_sdk.Client.get_session`."""
        return await self._call(self._protocol.get_session(session_id), self._protocol.session)

    async def send_message(
        self,
        session_id: str | Session,
        text: str,
        *,
        intent_filter: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_token: str | None = None,
        message_id: str | None = None,
    ) -> MessageResponse:
        """See :meth:`longtang_sdk.Client.send_message`."""
        request = self._protocol.send_message(
            session_id, text, intent_filter, metadata, user_token, message_id
        )
        return await self._call(request, self._protocol.message_response)

    async def aclose(self) -> None:
        """Releases the transport's connections."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _call(self, request: HttpRequest, read: Callable[[HttpResponse], T]) -> T:
        retry = 0
        while True:
            try:
                answer = await self._transport.send(request, self.config.timeout_seconds)
            except errors.TimeoutError:
                raise
            except errors.APIConnectionError as error:
                if retry >= self.config.max_retries:
                    raise
                wait = self._protocol.retry_wait(retry, None, self._rand)
                logger.info("%s; retry %d in %.2fs", error, retry + 1, wait)
            else:
                if 200 <= answer.status < 300:
                    return read(answer)
                if not is_retryable(answer) or retry >= self.config.max_retries:
                    raise error_for(answer)
                wait = self._protocol.retry_wait(retry, answer, self._rand)
                logger.info("HTTP %d from %s; retry %d in %.2fs", answer.status, request.url, retry + 1, wait)
            await self._sleep(wait)
            retry += 1
