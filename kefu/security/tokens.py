"""Customer tokens: the HS256 JWT a channel puts in ``metadata.user_token`` to say who is logged in.

A token names the customer (``sub``), who issued it (``iss``, the shop's login: ``CUSTOMER_TOKEN_ISSUER``)
and for whom (``aud``, this assistant: ``CUSTOMER_TOKEN_AUDIENCE``), and expires (``exp``) at most
:data:`MAX_LIFETIME` after it is checked: a token "valid until 2999" is a password that never changes.
"""

from __future__ import annotations

import datetime as dt

import jwt

from kefu.settings import TOKEN_AUDIENCE as AUDIENCE
from kefu.settings import TOKEN_ISSUER as ISSUER
from kefu.settings import Settings

ALGORITHM = "HS256"
MAX_LIFETIME = dt.timedelta(days=30)


def verify_customer_token(
    token: object,
    secret: str,
    *,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    now: dt.datetime | None = None,
) -> str | None:
    """The user id (``sub``) of a valid token, else None; never raises.

    Missing, malformed, unsigned (``alg: none``), wrongly signed and expired tokens, tokens without
    ``exp``, ``sub``, the expected ``iss`` or ``aud``, tokens expiring more than :data:`MAX_LIFETIME`
    from ``now``, and an empty ``secret`` all count as not logged in.
    """
    if not isinstance(token, str) or not token or not secret:
        return None
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
        moment = now or dt.datetime.now(dt.timezone.utc)
        if float(claims["exp"]) > (moment + MAX_LIFETIME).timestamp():
            return None
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError):
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and subject.strip() else None


def issue_customer_token(
    user_id: str,
    secret: str,
    ttl_seconds: int = 3600,
    now: dt.datetime | None = None,
    *,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
) -> str:
    """A signed token for ``user_id`` valid for ``ttl_seconds`` (for tests and the demo channel)."""
    issued = now or dt.datetime.now(dt.timezone.utc)
    claims = {
        "sub": user_id,
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + dt.timedelta(seconds=ttl_seconds),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def customer_of(token: object, settings: Settings) -> str | None:
    """The user id of a valid token under the shop's settings (secret, issuer, audience), else None."""
    return verify_customer_token(
        token,
        settings.customer_token_secret,
        issuer=settings.customer_token_issuer,
        audience=settings.customer_token_audience,
    )


def token_for(user_id: str, settings: Settings, ttl_seconds: int = 3600) -> str:
    """A token for ``user_id`` that :func:`customer_of` accepts under the same settings."""
    return issue_customer_token(
        user_id,
        settings.customer_token_secret,
        ttl_seconds,
        issuer=settings.customer_token_issuer,
        audience=settings.customer_token_audience,
    )
