"""What the chat channels check before a client reaches a conversation, besides its text.

Which conversations exist (for :func:`kefu.security.conversation_access.admit`), the response
headers handing a new conversation's key to its client, and which web origins may connect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kefu.security.conversation_access import KEY_HEADER, Admission

Exists = Callable[[str], Awaitable[bool]]


def tracker_exists(app: Any) -> Exists:
    """Whether the Rasa server ``app``'s tracker store holds a conversation."""

    async def exists(conversation_id: str) -> bool:
        agent = getattr(app.ctx, "agent", None)
        store = getattr(agent, "tracker_store", None)
        return store is not None and await store.retrieve(conversation_id) is not None

    return exists


def key_headers(admission: Admission) -> dict[str, str] | None:
    """The header handing a new conversation's key to its client (readable by a browser page)."""
    if admission.issued_key is None:
        return None
    return {KEY_HEADER: admission.issued_key, "Access-Control-Expose-Headers": KEY_HEADER}


def origin_checker(allowed: tuple[str, ...]) -> Callable[[str | None, dict[str, Any]], bool]:
    """python-engineio's origin check: the page's own origin (as the server is reached, directly or
    through a proxy's ``X-Forwarded-Host``) and ``allowed`` (``ALLOWED_ORIGINS``); clients sending
    no Origin (apps, not browsers) are not checked."""

    def allowed_origin(origin: str | None, environ: dict[str, Any]) -> bool:
        if origin is None or origin in allowed:
            return True
        host = environ.get("HTTP_HOST", "")
        forwarded = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
        scheme = environ.get("wsgi.url_scheme", "http").split(",")[0].strip()
        return origin in {f"{scheme}://{host}", f"{scheme}://{forwarded}"}

    return allowed_origin
