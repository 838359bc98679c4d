"""Where Rasa keeps conversations: tracker and lock stores, referenced from the generated endpoints.

``kefu.runtime.endpoints`` picks them from the settings: with ``REDIS_URL`` set, the Redis stores
below; without it, the in-memory tracker store (one server instance only). They differ from Rasa's
own in three ways:

- the Redis connection comes from ``REDIS_URL`` (password, database, ``rediss://`` TLS) and is
  checked when the store is built: an unreachable or misconfigured Redis stops the server with an
  error naming ``REDIS_URL`` instead of Rasa's quiet fall-back to memory;
- the lock store's read-modify-write steps are atomic (``WATCH``/``MULTI``), so two server
  instances sharing one Redis serve one customer's messages strictly one at a time; Rasa's
  ``RedisLockStore`` reads and writes separately, so two instances can both take the first ticket;
- the session expiry comes from ``SESSION_EXPIRATION_MINUTES`` rather than from the trained
  model's domain, so changing it needs no retraining;
- the processor gets the latest ``TRACKER_WINDOW_EVENTS`` events of a long conversation, so a
  turn costs the same at turn 150 as at turn 5 (:mod:`kefu.runtime.tracker_window`); the
  stored record keeps every event.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore
from rasa.shared.core.domain import Domain, SessionConfig
from rasa.utils.endpoints import EndpointConfig

from kefu.runtime.redis import check_redis, redis_client
from kefu.runtime.tracker_window import WindowedHistory, appended_in_place, insertion
from kefu.settings import Settings, get_settings

logger = logging.getLogger(__name__)

T = TypeVar("T")


def apply_session_settings(domain: Domain, settings: Settings) -> Domain:
    """Sets the domain's session expiry from the settings; carrying slots over stays the domain's choice."""
    domain.session_config = SessionConfig(
        settings.session_expiration_minutes, domain.session_config.carry_over_slots
    )
    return domain


class _SessionSettings:
    """Mixin: the domain Rasa hands the tracker store (the same object its processor uses) gets
    the configured session expiry."""

    _domain: Domain
    _settings: Settings

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        self._domain = apply_session_settings(domain or Domain.empty(), self._settings)


class MemoryTrackerStore(_SessionSettings, WindowedHistory, InMemoryTrackerStore):
    """Rasa's in-memory tracker store with the configured session expiry (``REDIS_URL`` empty)."""

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: Any = None,
        settings: Settings | None = None,
        **kwargs: Any,
    ) -> None:
        self._settings = settings or get_settings()
        super().__init__(domain or Domain.empty(), event_broker)
        self.domain = self._domain
        self.window_events = self._settings.tracker_window_events
        self._windows: dict[str, str] = {}

    def _read_record(self, sender_id: str) -> str | None:
        return self.store.get(sender_id)

    def _write_record(self, sender_id: str, serialised: str) -> int:
        self.store[sender_id] = serialised
        return len(serialised)

    def _append_to_record(self, sender_id: str, items: str) -> int | None:
        stored = self.store.get(sender_id)
        record = appended_in_place(stored, items) if stored else None
        if record is None:
            return None
        self.store[sender_id] = record
        return len(record)

    def _read_window(self, sender_id: str) -> tuple[str | None, int | None]:
        stored = self.store.get(sender_id)
        return self._windows.get(sender_id), None if stored is None else len(stored)

    def _write_window(self, sender_id: str, serialised: str) -> None:
        self._windows[sender_id] = serialised


class RedisConversationStore(_SessionSettings, WindowedHistory, RedisTrackerStore):
    """Trackers in Redis under ``<REDIS_KEY_PREFIX>:tracker:<conversation id>``, expiring when idle."""

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: Any = None,
        settings: Settings | None = None,
        **kwargs: Any,
    ) -> None:
        self._settings = settings = settings or get_settings()
        client = redis_client(settings.redis_url, decode_responses=True)
        check_redis(settings.redis_url, client)
        super().__init__(
            domain or Domain.empty(),
            event_broker=event_broker,
            record_exp=round(settings.redis_tracker_expiry_days * 24 * 3600),  # redis-py wants an int
        )
        self.red = client
        self.key_prefix = f"{settings.redis_key_prefix}:tracker:"
        self.domain = self._domain
        self.window_events = settings.tracker_window_events

    def _window_key(self, sender_id: str) -> str:
        return f"{self._settings.redis_key_prefix}:window:{sender_id}"

    def _read_record(self, sender_id: str) -> str | None:
        return self.red.get(self.key_prefix + sender_id)

    def _write_record(self, sender_id: str, serialised: str) -> int:
        self.red.set(self.key_prefix + sender_id, serialised, ex=self.record_exp or None)
        return len(serialised.encode("utf-8"))

    def _append_to_record(self, sender_id: str, items: str) -> int | None:
        # Under the conversation's lock: nothing else writes the record between these two steps.
        key = self.key_prefix + sender_id
        pipe = self.red.pipeline(transaction=False)
        pipe.strlen(key)
        pipe.getrange(key, -2, -1)
        length, ending = pipe.execute()
        insert = insertion(ending, items) if length else None
        if insert is None:
            return None
        pipe = self.red.pipeline(transaction=False)
        pipe.setrange(key, length - 2, insert)
        if self.record_exp:
            pipe.expire(key, self.record_exp)
        return int(pipe.execute()[0])

    def _read_window(self, sender_id: str) -> tuple[str | None, int | None]:
        pipe = self.red.pipeline(transaction=False)
        pipe.get(self._window_key(sender_id))
        pipe.strlen(self.key_prefix + sender_id)
        window, length = pipe.execute()
        return window, int(length) or None

    def _write_window(self, sender_id: str, serialised: str) -> None:
        self.red.set(self._window_key(sender_id), serialised, ex=self.record_exp or None)


class RedisTicketLockStore(LockStore):
    """Conversation locks in Redis under ``<REDIS_KEY_PREFIX>:lock:<conversation id>``, changed atomically."""

    def __init__(
        self, endpoint_config: EndpointConfig | None = None, settings: Settings | None = None
    ) -> None:
        settings = settings or get_settings()
        self.red = redis_client(settings.redis_url, decode_responses=True)
        check_redis(settings.redis_url, self.red)
        self.key_prefix = f"{settings.redis_key_prefix}:lock:"
        super().__init__()

    def _key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    def _change(
        self, conversation_id: str, change: Callable[[TicketLock | None], tuple[TicketLock | None, T]]
    ) -> T:
        """Applies ``change`` to the stored lock in one optimistic transaction, retried on conflict.

        ``change`` gets the stored lock (or None) and returns the lock to store (None deletes it) and
        the result to return.
        """
        import redis

        key = self._key(conversation_id)
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock, result = change(TicketLock.from_dict(json.loads(raw)) if raw else None)
                    pipe.multi()
                    if lock is None or not lock.is_someone_waiting():
                        pipe.delete(key)
                    else:
                        pipe.set(key, lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another instance changed the lock in between: read it again

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as exc:
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        raw = self.red.get(self._key(conversation_id))
        return TicketLock.from_dict(json.loads(raw)) if raw else None

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def finish(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # finish_serving deletes the lock in the same transaction when nobody else holds a ticket.
        self.finish_serving(conversation_id, ticket_number)

    def delete_lock(self, conversation_id: str) -> None:
        self.red.delete(self._key(conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        self.red.set(self._key(lock.conversation_id), lock.dumps())
