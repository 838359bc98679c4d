"""Production refuses weak settings: placeholders, guessable secrets, short keys.

A secret is weak when it is short, when it contains a development placeholder (``dev-only-...``,
``change-me``; appending a character does not make it secret), or when its characters carry too
little information: 32 identical characters are 32 characters long and worth nothing. The
information estimate is the string's length times the Shannon entropy of its character
frequencies: about 120 bits for 32 random hex digits (``openssl rand -hex 16``), 0 for ``aaaa...``.
"""

from __future__ import annotations

import base64
import binascii
import math
import sys
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kefu.settings import Settings

# Markers of a value copied from a development default or a template.
PLACEHOLDER_MARKERS = ("dev-only", "change-me", "changeme", "placeholder", "example")
MIN_SECRET_BITS = 96.0
MIN_KEY_DISTINCT_BYTES = 16  # 32 random bytes have about 28 distinct values; zeros have 1
GENERATE_HINT = "`openssl rand -hex 32`"


def estimated_bits(value: str) -> float:
    """Length times the Shannon entropy (bits) of the character frequencies of ``value``."""
    if not value:
        return 0.0
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


def secret_weakness(value: str, min_length: int) -> str | None:
    """Why ``value`` is not a usable secret, or None when it is."""
    lowered = value.lower()
    if any(marker in lowered for marker in PLACEHOLDER_MARKERS):
        return "contains a development placeholder"
    if len(value) < min_length:
        return f"is shorter than {min_length} characters"
    if estimated_bits(value) < MIN_SECRET_BITS:
        return "is too predictable (repeated or few distinct characters)"
    return None


def _require_secret(name: str, value: str, min_length: int, hint: str = GENERATE_HINT) -> None:
    from kefu.settings import SettingsError

    weakness = secret_weakness(value, min_length)
    if weakness is not None:
        raise SettingsError(f"{name} {weakness}; set a random value (e.g. {hint}) in production")


def _require_encryption_keys(spec: str, development_spec: str) -> None:
    from kefu.settings import SettingsError

    development_keys = {entry.partition(":")[2].strip() for entry in development_spec.split(",")}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        key_id, _, material = entry.partition(":")
        hint = "generate one with `python -m kefu.security.crypto new-key`"
        if material.strip() in development_keys:
            raise SettingsError(
                f"KEFU_ENCRYPTION_KEYS: key {key_id!r} is the development key under another id; {hint}"
            )
        try:
            key = base64.b64decode(material, validate=True)
        except (binascii.Error, ValueError):
            continue  # malformed keys are reported by kefu.security.crypto with the details
        if len(set(key)) < MIN_KEY_DISTINCT_BYTES:
            raise SettingsError(f"KEFU_ENCRYPTION_KEYS: key {key_id!r} is not random; {hint}")


def refuse_weak_settings(settings: Settings) -> None:
    """Raises :class:`~kefu.settings.SettingsError` naming the first weak production setting."""
    from kefu import settings as defaults
    from kefu.settings import SettingsError

    if settings.admin_bootstrap_password:
        raise SettingsError(
            "ADMIN_BOOTSTRAP_PASSWORD is set: production never creates an admin with a preset password; "
            "unset it and create the first admin with `python -m kefu.admin.accounts create-admin`"
        )
    _require_secret("CUSTOMER_TOKEN_SECRET", settings.customer_token_secret, 32)
    _require_encryption_keys(settings.encryption_keys, defaults.DEV_ENCRYPTION_KEY)
    _require_secret("DASHBOARD_ADMIN_TOKEN", settings.dashboard_admin_token, 24, "`openssl rand -hex 24`")
    _require_secret("ACTION_SERVER_SECRET", settings.action_server_secret, 32)
    for key, app in settings.sdk_api_keys.items():
        weakness = secret_weakness(key, 24)
        if weakness is not None:
            raise SettingsError(
                f"SDK_API_KEYS: the key of {app!r} {weakness}; give it a random key "
                "(e.g. `openssl rand -hex 24`) in production"
            )


DEVELOPMENT_BANNER = """
**********************************************************************************
**  DEVELOPMENT MODE (KEFU_ENV={env}): development secrets, any SDK key and a
**  development admin are accepted. Never expose this process to the internet.
**  Going live: KEFU_ENV=production and the settings listed in docs/security.md.
**********************************************************************************
"""


def announce_mode(settings: Settings, what: str) -> None:
    """Prints a banner to stderr when ``settings`` are not production's (start-up of ``what``)."""
    if settings.production:
        return
    banner = DEVELOPMENT_BANNER.format(env=settings.env)
    sys.stderr.write(f"{banner}{what} is starting in {settings.env} mode.\n")
    sys.stderr.flush()
