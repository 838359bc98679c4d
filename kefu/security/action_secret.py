"""The secret the Rasa server shows the action server on every call (``ACTION_SERVER_SECRET``).

The Rasa server sends it in :data:`SECRET_HEADER` (:func:`kefu.runtime.endpoints.action_server_headers`);
the action server answers only calls that carry it (:mod:`kefu.action_server`).
"""

from __future__ import annotations

import hmac

SECRET_HEADER = "X-Kefu-Action-Secret"


def secret_matches(given: str | None, secret: str) -> bool:
    """Whether ``given`` is ``secret``, compared in constant time; an empty secret matches nothing."""
    if not given or not secret:
        return False
    return hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))
