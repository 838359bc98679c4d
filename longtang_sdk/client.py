"""The synchronous client."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Mapping, Sequence, TypeVar

from longtang_sdk import errors
from longtang_sdk._protocol import ApiProtocol, default_rand, error_for, is_retryable
from longtang_sdk.config import ClientConfig, as_config
from longtang_sdk.models import MessageResponse, Session
from longtang_sdk.transport import HttpRequest, HttpResponse, Transport, UrllibTransport

logger = logging.getLogger("longtang_sdk")

T = TypeVar("T")


class Client:
    """Talks to the assistant over HTTP; safe to share between threads.

    ``config`` is a dict (``api_key``, ``endpoint``, ``timeout`` in milliseconds, ``max_retries``,
    ``retry_backoff``, ``max_retry_wait``) or a :class:`ClientConfig`; keyword arguments override
    it. ``transport`` replaces the HTTP layer, e.g. with :class:`longtang_sdk.testing.FakeTransport`.
    """

    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(
        self,
        config: ClientConfig | Mapping[str, Any] | None = None,
        *,
        transport: Transport | None = None,
        **settings: Any,
    ) -> None:
        self.config = as_config(config, settings)
        self._protocol = ApiProtocol(self.config)
        self._transport: Transport = transport or UrllibTransport()
        self._rand = default_rand

    def create_session(
        self, user_id: str | None = None, channel: str = "api", context: Mapping[str, Any] | None = None
    ) -> Session:
        """Starts a conversation for ``user_id`` (your id of the customer) on ``channel``.

        ``context`` (a JSON object) is kept with the session and passed to the assistant with every
        message as ``metadata.sdk_session.context``.
        """
        return self._call(self._protocol.create_session(user_id, channel, context), self._protocol.session)

    def get_session(self, session_id: str | Session) -> Session:
        """The session's details; raises :class:`~longtang_sdk.NotFoundError` for an unknown id."""
        return self._call(self._protocol.get_session(session_id), self._protocol.session)

    def send_message(
        self,
        session_id: str | Session,
        text: str,
        *,
        intent_filter: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_token: str | None = None,
        message_id: str | None = None,
    ) -> MessageResponse:
        """Sends the customer's ``text`` and returns the assistant's reply.

        ``intent_filter`` limits the intents the assistant may recognise for this message.
        ``user_token`` is the customer's signed identity token (an HS256 JWT from your login
        system), sent as ``metadata.user_token``. ``message_id`` makes the call idempotent: a
        retried message with the same id is answered from the conversation, not processed twice
        (one is generated when left out).
        """
        request = self._protocol.send_message(
            session_id, text, intent_filter, metadata, user_token, message_id
        )
        return self._call(request, self._protocol.message_response)

    def close(self) -> None:
        """Releases the transport's connections."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, request: HttpRequest, read: Callable[[HttpResponse], T]) -> T:
        retry = 0
        while True:
            try:
                answer = self._transport.send(request, self.config.timeout_seconds)
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
            self._sleep(wait)
            retry += 1
