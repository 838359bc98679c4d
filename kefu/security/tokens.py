"""Customer tokens: the HS256 JWT a channel puts in ``metadata.user_token`` to say who is logged in."""

from __future__ import annotations

import datetime as dt

import jwt

ALGORITHM = "HS256"


def verify_customer_token(token: object, secret: str) -> str | None:
    """The user id (``sub``) of a valid token, else None; never raises.

    Missing, malformed, unsigned (``alg: none``), wrongly signed and expired tokens, tokens without
    ``exp`` or ``sub``, and an empty ``secret`` all count as not logged in.
    """
    if not isinstance(token, str) or not token or not secret:
        return None
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and subject.strip() else None


def issue_customer_token(
    user_id: str, secret: str, ttl_seconds: int = 3600, now: dt.datetime | None = None
) -> str:
    """A signed token for ``user_id`` valid for ``ttl_seconds`` (for tests and the demo channel)."""
    issued = now or dt.datetime.now(dt.timezone.utc)
    claims = {"sub": user_id, "iat": issued, "exp": issued + dt.timedelta(seconds=ttl_seconds)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
