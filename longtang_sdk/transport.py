"""How requests reach the assistant: a small interface with real and test implementations.

A transport sends one :class:`HttpRequest` and returns the :class:`HttpResponse`, whatever its
status. It raises :class:`~longtang_sdk.errors.TimeoutError` when the assistant does not answer in
time and :class:`~longtang_sdk.errors.APIConnectionError` when it cannot be reached; the clients
decide about retries. Tests pass their own transport (see :mod:`longtang_sdk.testing`).
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, runtime_checkable

from longtang_sdk import errors


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """A header's value, looked up without regard to case."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@runtime_checkable
class Transport(Protocol):
    """Sends requests synchronously (used by :class:`~longtang_sdk.Client`)."""

    def send(self, request: HttpRequest, timeout: float) -> HttpResponse: ...

    def close(self) -> None: ...


@runtime_checkable
class AsyncTransport(Protocol):
    """Sends requests from asyncio code (used by :class:`~longtang_sdk.AsyncClient`)."""

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse: ...

    async def aclose(self) -> None: ...


class UrllibTransport:
    """The default synchronous transport: the standard library's ``urllib``, no dependency."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener()

    def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        prepared = urllib.request.Request(
            request.url, data=request.body, headers=dict(request.headers), method=request.method
        )
        try:
            with self._opener.open(prepared, timeout=timeout) as answer:
                return HttpResponse(answer.status, dict(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return HttpResponse(error.code, dict(error.headers.items()), error.read())
        except urllib.error.URLError as error:
            if isinstance(error.reason, (socket.timeout, TimeoutError)):
                raise errors.TimeoutError(f"no answer from {request.url} within {timeout:g}s") from error
            raise errors.APIConnectionError(f"cannot reach {request.url}: {error.reason}") from error
        except (socket.timeout, TimeoutError) as error:
            raise errors.TimeoutError(f"no answer from {request.url} within {timeout:g}s") from error
        except (OSError, http.client.HTTPException) as error:
            raise errors.APIConnectionError(f"connection to {request.url} failed: {error!r}") from error

    def close(self) -> None:
        """Nothing to release: urllib opens one connection per request."""


class ThreadedTransport:
    """Runs a synchronous transport in a worker thread: the async default without aiohttp."""

    def __init__(self, transport: Transport | None = None) -> None:
        self._transport = transport or UrllibTransport()

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._transport.send, request, timeout)

    async def aclose(self) -> None:
        self._transport.close()


class AiohttpTransport:
    """The async transport over aiohttp (``pip install longtang-sdk[aiohttp]``), one pooled session."""

    def __init__(self, session: Any = None) -> None:
        import aiohttp  # noqa: F401 - fail early with ImportError when it is not installed

        self._session = session
        self._owns_session = session is None

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.request(
                request.method,
                request.url,
                data=request.body,
                headers=dict(request.headers),
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as answer:
                return HttpResponse(answer.status, dict(answer.headers.items()), await answer.read())
        except asyncio.TimeoutError as error:  # also aiohttp's ServerTimeoutError
            raise errors.TimeoutError(f"no answer from {request.url} within {timeout:g}s") from error
        except aiohttp.ClientError as error:
            raise errors.APIConnectionError(f"connection to {request.url} failed: {error!r}") from error

    async def aclose(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None


def default_async_transport() -> AsyncTransport:
    """aiohttp when it is installed, else urllib in a worker thread."""
    try:
        return AiohttpTransport()
    except ImportError:
        return ThreadedTransport()
