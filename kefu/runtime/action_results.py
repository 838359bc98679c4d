"""Validates the action server's answers with a validator built once.

Rasa 3.6 (``RemoteAction._validate_action_result``) calls ``jsonschema.validate`` on every action
server answer, and ``validate`` first checks the response schema itself against the JSON Schema
meta-schema. Under load that was a third of the Rasa process's CPU time on an order turn (py-spy,
8 concurrent customers). :func:`validate_action_result`, installed by
``kefu.runtime.patches.validate_action_results_once``, keeps the check and its error message, with
the schema checked and the validator built once per process.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(_: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result``: True, or the best-matching ``ValidationError``."""
    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error
