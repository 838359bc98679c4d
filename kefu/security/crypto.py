"""Field encryption: AES-256-GCM with key rotation, for personal data stored in the database.

Keys come from ``KEFU_ENCRYPTION_KEYS``: comma-separated ``keyid:base64key`` entries, each key 32 bytes.
The first key encrypts; every key decrypts. A stored value reads ``keyid:nonce:ciphertext`` (nonce and
ciphertext in base64), so values written with an old key stay readable after a new key is put in front.
The associated data names the column (``orders.phone``): a value copied into another column does not
decrypt there.

Usage: ``python -m kefu.security.crypto new-key`` prints a new ``keyid:base64key`` entry;
``python -m kefu.security.crypto check`` validates ``KEFU_ENCRYPTION_KEYS``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import os
import re
import secrets
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENV_VAR = "KEFU_ENCRYPTION_KEYS"
_NEW_KEY_HINT = "`python -m kefu.security.crypto new-key`"
KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class EncryptionKeyError(ValueError):
    """``KEFU_ENCRYPTION_KEYS`` is malformed, or lacks the key a stored value was encrypted with."""


class DecryptionError(ValueError):
    """A stored value is malformed, was tampered with, or belongs to another column."""


@dataclass(frozen=True)
class FieldCipher:
    """Encrypts and decrypts column values; ``keys`` in order, the first one current."""

    keys: tuple[tuple[str, bytes], ...] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise EncryptionKeyError(f"{ENV_VAR} holds no key; generate one with {_NEW_KEY_HINT}")
        seen: set[str] = set()
        for key_id, key in self.keys:
            if not _KEY_ID.match(key_id):
                raise EncryptionKeyError(
                    f"{ENV_VAR}: key id {key_id!r} must be 1-32 letters, digits, '-' or '_'"
                )
            if key_id in seen:
                raise EncryptionKeyError(
                    f"{ENV_VAR}: key id {key_id!r} appears twice; key ids must be unique"
                )
            if len(key) != KEY_BYTES:
                raise EncryptionKeyError(
                    f"{ENV_VAR}: key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES} "
                    f"(generate one with {_NEW_KEY_HINT})"
                )
            seen.add(key_id)

    @classmethod
    def from_spec(cls, spec: str) -> FieldCipher:
        """Parses ``keyid:base64key[,keyid:base64key...]``, the format of ``KEFU_ENCRYPTION_KEYS``."""
        return cls(tuple(_parse_entry(entry.strip()) for entry in spec.split(",") if entry.strip()))

    @property
    def current_key_id(self) -> str:
        return self.keys[0][0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(key_id for key_id, _ in self.keys)

    def encrypt(self, plaintext: str, context: str) -> str:
        """Encrypts ``plaintext`` with the current key, bound to ``context`` (e.g. ``orders.phone``)."""
        key_id, key = self.keys[0]
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return f"{key_id}:{_b64(nonce)}:{_b64(ciphertext)}"

    def decrypt(self, stored: str, context: str) -> str:
        """The clear text of a value made by :meth:`encrypt` with the same ``context``."""
        key_id, nonce, ciphertext = _split(stored)
        key = dict(self.keys).get(key_id)
        if key is None:
            raise EncryptionKeyError(
                f"a stored value was encrypted with key id {key_id!r}, which is not in {ENV_VAR} "
                f"(it holds {', '.join(self.key_ids)}); add that key back after the current one"
            )
        try:
            plaintext = AESGCM(key).decrypt(nonce, ciphertext, context.encode("utf-8"))
        except InvalidTag as exc:
            raise DecryptionError(
                f"value encrypted with key {key_id!r} does not authenticate as {context!r}: "
                "tampered with, or copied from another column"
            ) from exc
        return plaintext.decode("utf-8")

    def is_current(self, stored: str) -> bool:
        """True when ``stored`` was encrypted with the current key (no re-encryption needed)."""
        return stored.split(":", 1)[0] == self.current_key_id

    def reencrypt(self, stored: str, context: str) -> str:
        """``stored`` encrypted again with the current key (it may have been made with any known key)."""
        return self.encrypt(self.decrypt(stored, context), context)


def _parse_entry(entry: str) -> tuple[str, bytes]:
    key_id, sep, encoded = entry.partition(":")
    if not sep or not key_id or not encoded:
        raise EncryptionKeyError(
            f"{ENV_VAR}: entry {_redact(entry)!r} is not `keyid:base64key`; generate one with {_NEW_KEY_HINT}"
        )
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EncryptionKeyError(f"{ENV_VAR}: key {key_id!r} is not valid standard base64") from exc
    return key_id, key


def _redact(entry: str) -> str:
    """An entry as it may appear in an error message: never the key material."""
    key_id, sep, _ = entry.partition(":")
    return f"{key_id}:..." if sep else "..."


def _split(stored: str) -> tuple[str, bytes, bytes]:
    parts = stored.split(":") if isinstance(stored, str) else []
    if len(parts) != 3 or not all(parts):
        raise DecryptionError("stored value is not `keyid:nonce:ciphertext`; was it stored unencrypted?")
    try:
        nonce = base64.b64decode(parts[1], validate=True)
        ciphertext = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("stored value's nonce or ciphertext is not valid base64") from exc
    if len(nonce) != NONCE_BYTES:
        raise DecryptionError(f"stored value's nonce is {len(nonce)} bytes, expected {NONCE_BYTES}")
    return parts[0], nonce, ciphertext


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def new_key_entry(key_id: str | None = None) -> str:
    """A fresh ``keyid:base64key`` entry for ``KEFU_ENCRYPTION_KEYS``."""
    key_id = key_id or f"k{dt.date.today():%Y%m%d}{secrets.token_hex(2)}"
    entry = f"{key_id}:{_b64(AESGCM.generate_key(bit_length=256))}"
    FieldCipher.from_spec(entry)  # validates the key id
    return entry


@lru_cache(maxsize=1)
def default_cipher() -> FieldCipher:
    """The process-wide cipher built from the settings' ``encryption_keys``."""
    from kefu.settings import get_settings

    return FieldCipher.from_spec(get_settings().encryption_keys)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kefu.security.crypto", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    new_key = commands.add_parser("new-key", help="print a new keyid:base64key entry")
    new_key.add_argument("--key-id", help="the key id (default: k<date><random>)")
    commands.add_parser("check", help=f"validate {ENV_VAR} as the settings read it")
    args = parser.parse_args(argv)
    try:
        if args.command == "new-key":
            print(new_key_entry(args.key_id))
        else:
            cipher = default_cipher()
            keys = ", ".join(cipher.key_ids)
            print(f"{ENV_VAR}: {len(cipher.keys)} key(s) {keys}; current {cipher.current_key_id}")
    except EncryptionKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
