"""Test doubles: transports that answer from canned responses, for unit tests of code using the SDK.

```python
from longtang_sdk import Client
from longtang_sdk.testing import FakeTransport, json_response

transport = FakeTransport([json_response(201, {"session_id": "s1"})])
client = Client({"endpoint": "http://assistant.test"}, transport=transport)
assert client.create_session().id == "s1"
```
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable, Mapping, Union

from longtang_sdk.transport import HttpRequest, HttpResponse


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> HttpResponse:
    """An HTTP response with a JSON body."""
    return HttpResponse(
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body, ensure_ascii=False).encode("utf-8"),
    )


Handler = Callable[[HttpRequest], Union[HttpResponse, Exception]]


class FakeTransport:
    """A transport for tests: answers from a list of canned responses (or exceptions) or a function.

    Works with both clients. ``requests`` records every request sent, with its timeout.
    """

    def __init__(self, responses: list[HttpResponse | Exception] | Handler) -> None:
        self._responses = responses
        self.requests: list[HttpRequest] = []
        self.timeouts: list[float] = []
        self.closed = False

    def _answer(self, request: HttpRequest, timeout: float) -> HttpResponse:
        self.requests.append(request)
        self.timeouts.append(timeout)
        if callable(self._responses):
            answer = self._responses(request)
        elif self._responses:
            answer = self._responses.pop(0)
        else:
            raise AssertionError(f"FakeTransport has no response left for {request.method} {request.url}")
        if isinstance(answer, Exception):
            raise answer
        return answer

    def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        return self._answer(request, timeout)

    def close(self) -> None:
        self.closed = True


class AsyncFakeTransport(FakeTransport):
    """:class:`FakeTransport` for :class:`~longtang_sdk.AsyncClient`."""

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:  # type: ignore[override]
        await asyncio.sleep(0)
        return self._answer(request, timeout)

    async def aclose(self) -> None:
        self.closed = True
