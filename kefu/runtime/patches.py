"""Every change this project makes to Rasa's (and the action server's) behaviour, in one place.

Each patch is one small function naming the Rasa version it was written against (3.6.21) and why it
exists; ``tests/unit/runtime/test_patches.py`` fails when the Rasa code a patch relies on changes.
Importing this module does nothing and imports no Rasa: the patches are applied by

- :func:`install`: all of them, for the Rasa server (``kefu.rasa_cli`` for ``run`` and ``shell``);
- :func:`disable_phone_home` and :func:`mask_logs`: for every other Rasa command (``kefu.rasa_cli``,
  ``kefu.validate``, the benchmarks);
- the action server (``kefu.action_server``) runs rasa_sdk, never Rasa: it only masks its logs with
  :func:`kefu.security.masking.install_log_masking`, as :func:`mask_logs` does here.

Each function can be called any number of times; the second call changes nothing.
"""

from __future__ import annotations

import os
from typing import Any

PATCHED = "_kefu_patch"


def _patched(function: Any) -> Any:
    setattr(function, PATCHED, True)
    return function


def _is_patched(attribute: Any) -> bool:
    return bool(getattr(attribute, PATCHED, False))


def install() -> None:
    """Every patch of the Rasa server's process."""
    disable_phone_home()
    mask_logs()
    read_endpoints_from_settings()
    tracker_store_without_fallback()
    validate_action_results_once()
    resolve_event_types_from_table()


def disable_phone_home() -> None:
    """Rasa 3.6.21 sends usage telemetry unless ``RASA_TELEMETRY_ENABLED=false`` and, whatever that
    flag says, initialises Sentry crash reporting from a key shipped in the package
    (``rasa.telemetry.initialize_error_reporting``, ``rasa.telemetry.sentry_write_key``). A shop's
    conversations must not leave its servers: both are switched off for this process and its children.
    """
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    os.environ.pop("RASA_EXCEPTION_WRITE_KEY", None)
    import rasa.telemetry

    if not _is_patched(rasa.telemetry.initialize_error_reporting):
        rasa.telemetry.initialize_error_reporting = _patched(lambda: None)
    if not _is_patched(rasa.telemetry.sentry_write_key):
        rasa.telemetry.sentry_write_key = _patched(lambda: None)


def mask_logs() -> None:
    """The Rasa server's and the action server's logs carry customers' messages (Rasa 3.6.21 and
    rasa_sdk 3.6 log user text at debug level): phone numbers, tokens and e-mail addresses are masked
    in every log record of the process (:func:`kefu.security.masking.install_log_masking`).
    """
    from kefu.security.masking import install_log_masking

    install_log_masking()


def read_endpoints_from_settings() -> None:
    """Rasa 3.6.21 reads its endpoints with ``AvailableEndpoints.read_endpoints(endpoint_file)``;
    it is replaced by :func:`kefu.runtime.endpoints.read_endpoints`, which adds the tracker store,
    lock store and event broker built from the settings and the action server's shared secret, so
    the server runs with exactly what the environment says and secrets never go into a file.
    """
    from rasa.core.utils import AvailableEndpoints

    if _is_patched(AvailableEndpoints.read_endpoints):
        return
    rasa_reader = AvailableEndpoints.read_endpoints

    def read(cls: Any, endpoint_file: str) -> Any:
        from kefu.runtime.endpoints import read_endpoints

        return read_endpoints(endpoint_file, rasa_reader=rasa_reader)

    AvailableEndpoints.read_endpoints = classmethod(_patched(read))  # type: ignore[assignment]


def tracker_store_without_fallback() -> None:
    """Rasa 3.6.21's ``Agent._create_tracker_store(store, domain)`` wraps every tracker store in a
    ``FailSafeTrackerStore`` that, when the store fails, treats the conversation as new and saves it
    in memory: a customer talking to several instances would silently lose their conversation.
    Without the wrapper a store failure fails the request and is logged; the conversation in Redis
    stays intact.
    """
    from rasa.core.agent import Agent

    if not _is_patched(Agent._create_tracker_store):
        Agent._create_tracker_store = staticmethod(_patched(_tracker_store_without_fallback))  # type: ignore[method-assign]


def _tracker_store_without_fallback(store: Any, domain: Any) -> Any:
    from kefu.runtime.conversation_stores import MemoryTrackerStore

    if store is None:
        return MemoryTrackerStore(domain)
    store.domain = domain
    return store


def validate_action_results_once() -> None:
    """Rasa 3.6.21's ``RemoteAction._validate_action_result(self, result)`` calls
    ``jsonschema.validate``, which checks the response schema against the meta-schema on every action
    server answer: a third of the Rasa process's CPU time on an order turn under load (py-spy, 8
    concurrent customers). :func:`kefu.runtime.action_results.validate_action_result` keeps the check
    and its error message, with the validator built once per process.
    """
    from rasa.core.actions.action import RemoteAction

    from kefu.runtime.action_results import validate_action_result

    if not _is_patched(RemoteAction._validate_action_result):
        RemoteAction._validate_action_result = _patched(validate_action_result)  # type: ignore[method-assign]


def resolve_event_types_from_table() -> None:
    """Rasa 3.6.21's ``Event.resolve_by_type(type_name, default=None)`` walks every subclass of
    ``Event`` for every event it deserialises; a tracker is deserialised on every message, so at turn
    150 it was a fifth of the Rasa process's time (py-spy).
    :func:`kefu.runtime.event_types.resolve_by_type` finds the same classes in a table.
    """
    from rasa.shared.core.events import Event

    from kefu.runtime.event_types import resolve_by_type

    if not _is_patched(Event.resolve_by_type):
        Event.resolve_by_type = staticmethod(_patched(resolve_by_type))  # type: ignore[method-assign]
