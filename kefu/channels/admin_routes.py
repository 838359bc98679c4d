"""The admin API's routes: each endpoint's method, path, the permission it needs and its handler."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from kefu.admin.permissions import Permission
from kefu.channels.http import (
    ApiError,
)

SPEC_PATH = Path(__file__).resolve().parent.parent / "admin" / "openapi.yaml"
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Endpoint:
    """One route: OpenAPI path (``{name}`` parameters), method, the permission it needs, its handler."""

    method: str
    path: str
    permission: Permission | None  # None: public (login, the spec)
    handler: str

    @property
    def sanic_path(self) -> str:
        # Every parameter is routed as a string and checked by the guard: a malformed one gets the
        # API's JSON 404 instead of Sanic's HTML page.
        path = self.path
        for name in ("handoff_id", "topic", "username", "session_id", "lock_key"):
            path = path.replace("{" + name + "}", f"<{name}:str>")
        return path


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/openapi.json", None, "openapi"),
    Endpoint("POST", "/auth/login", None, "login"),
    Endpoint("POST", "/auth/logout", Permission.OWN_ACCOUNT, "logout"),
    Endpoint("GET", "/auth/me", Permission.OWN_ACCOUNT, "me"),
    Endpoint("GET", "/roles", Permission.VIEW_ROLES, "roles"),
    Endpoint("GET", "/users", Permission.MANAGE_USERS, "list_users"),
    Endpoint("POST", "/users", Permission.MANAGE_USERS, "create_user"),
    Endpoint("PATCH", "/users/{username}", Permission.MANAGE_USERS, "update_user"),
    Endpoint("DELETE", "/users/{username}", Permission.MANAGE_USERS, "deactivate_user"),
    Endpoint("GET", "/knowledge/faq", Permission.VIEW_FAQ, "list_faq"),
    Endpoint("POST", "/knowledge/faq", Permission.CREATE_KNOWLEDGE, "create_faq"),
    Endpoint("GET", "/knowledge/faq/{topic}", Permission.VIEW_FAQ, "get_faq"),
    Endpoint("PUT", "/knowledge/faq/{topic}", Permission.EDIT_KNOWLEDGE, "update_faq"),
    Endpoint("DELETE", "/knowledge/faq/{topic}", Permission.DELETE_KNOWLEDGE, "delete_faq"),
    Endpoint("GET", "/handoffs", Permission.HANDOFF_VIEW, "list_handoffs"),
    Endpoint("GET", "/handoffs/{handoff_id}", Permission.HANDOFF_VIEW, "get_handoff"),
    Endpoint("POST", "/handoffs/{handoff_id}/claim", Permission.HANDOFF_CLAIM, "claim_handoff"),
    Endpoint("POST", "/handoffs/{handoff_id}/reply", Permission.HANDOFF_REPLY, "reply_handoff"),
    Endpoint("POST", "/handoffs/{handoff_id}/close", Permission.HANDOFF_CLOSE, "close_handoff"),
    Endpoint("POST", "/sessions", Permission.CREATE_SESSION, "create_session"),
    Endpoint("GET", "/sessions/{session_id}", Permission.VIEW_SESSION, "get_session"),
    Endpoint("DELETE", "/sessions/{session_id}", Permission.END_SESSION, "end_session"),
    Endpoint("POST", "/sessions/{session_id}/messages", Permission.SEND_MESSAGE, "send_message"),
    Endpoint("GET", "/conversations/search", Permission.SEARCH_CONVERSATIONS, "search"),
    Endpoint("GET", "/analytics/summary", Permission.VIEW_ANALYTICS, "analytics_summary"),
    Endpoint("GET", "/verification-locks", Permission.VIEW_VERIFICATION_LOCKS, "list_verification_locks"),
    Endpoint(
        "DELETE",
        "/verification-locks/{lock_key}",
        Permission.CLEAR_VERIFICATION_LOCKS,
        "clear_verification_lock",
    ),
)


@lru_cache(maxsize=1)
def openapi_spec() -> dict[str, Any]:
    """The OpenAPI document (``kefu/admin/openapi.yaml``)."""
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def handoff_id(value: str | int) -> int:
    raw = str(value)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18 and int(raw) >= 1):
        raise ApiError("转人工请求不存在。 No such handoff request.", 404, "not_found")
    return int(raw)
