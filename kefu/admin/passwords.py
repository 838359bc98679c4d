"""Password hashing with scrypt (standard library), salted, parameters stored with each hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

# OWASP's scrypt minimum is N=2**17, r=8, p=1 (128 MiB); 2**15 keeps a login under 0.1 s on a small
# server while costing an attacker 32 MiB per guess. Stored with the hash, so they can be raised.
N, R, P = 2**15, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_LENGTH = 10
MAX_LENGTH = 256  # scrypt hashes any length; this bounds the work one request can ask for


class WeakPasswordError(ValueError):
    """The password is too short or too long; the message says what is required."""


def check_strength(password: str) -> None:
    """Raises :class:`WeakPasswordError` unless ``password`` has 10 to 256 characters."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise WeakPasswordError(
            f"密码至少 {MIN_LENGTH} 个字符。 The password needs at least {MIN_LENGTH} characters."
        )
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(
            f"密码最多 {MAX_LENGTH} 个字符。 The password has at most {MAX_LENGTH} characters."
        )


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=KEY_BYTES
    )


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$<salt>$<key>`` (base64) for a password that passes :func:`check_strength`."""
    check_strength(password)
    salt = os.urandom(SALT_BYTES)
    key = _scrypt(password, salt, N, R, P)
    b64 = base64.b64encode
    return f"scrypt${N}${R}${P}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for anything malformed, never raises."""
    if not isinstance(password, str) or len(password) > MAX_LENGTH:
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
