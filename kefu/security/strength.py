"""What makes a secret weak: placeholders, guessable values, short or repeated keys.

Production refuses weak settings with these rules (:func:`kefu.settings.refuse_weak_settings`).

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
from collections import Counter

# Markers of a value copied from a development default or a template.
PLACEHOLDER_MARKERS = ("dev-only", "change-me", "changeme", "placeholder", "example")
MIN_SECRET_BITS = 96.0
MIN_KEY_DISTINCT_BYTES = 16  # 32 random bytes have about 28 distinct values; zeros have 1


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


def encryption_key_weakness(spec: str, development_spec: str) -> str | None:
    """Why a key of ``spec`` (``id:base64,...``) is not usable in production, or None when all are.

    Malformed keys are left to :mod:`kefu.security.crypto`, which reports them with the details.
    """
    development_keys = {entry.partition(":")[2].strip() for entry in development_spec.split(",")}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        key_id, _, material = entry.partition(":")
        if material.strip() in development_keys:
            return f"key {key_id!r} is the development key under another id"
        try:
            key = base64.b64decode(material, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(set(key)) < MIN_KEY_DISTINCT_BYTES:
            return f"key {key_id!r} is not random"
    return None
