"""Finishing a key rotation: re-encrypts every stored value that is not under the current key.

Rotation: put a new key in front of ``KEFU_ENCRYPTION_KEYS`` (keeping the old ones), restart, run
``python -m kefu.db.rekey``; once it reports nothing left to re-encrypt, the old keys can go.
"""

from __future__ import annotations

import sys

from sqlalchemy import Column, select, update

from kefu.db.engine import session_scope
from kefu.db.models import (
    CUSTOMER_PHONE,
    HANDOFF_TRANSCRIPT,
    ORDER_ADDRESS,
    ORDER_PHONE,
    WECHAT_OPENID,
    CustomerRow,
    HandoffRequestRow,
    OrderRow,
    WechatContactRow,
)
from kefu.security.crypto import FieldCipher, default_cipher

# (primary key, encrypted column, associated data)
ENCRYPTED_COLUMNS: tuple[tuple[Column, Column, str], ...] = (
    (CustomerRow.id, CustomerRow.phone_enc, CUSTOMER_PHONE),
    (OrderRow.order_id, OrderRow.phone_enc, ORDER_PHONE),
    (OrderRow.order_id, OrderRow.address_enc, ORDER_ADDRESS),
    (HandoffRequestRow.id, HandoffRequestRow.transcript_enc, HANDOFF_TRANSCRIPT),
    (WechatContactRow.sender_id, WechatContactRow.openid_enc, WECHAT_OPENID),
)


def reencrypt_all(url: str | None = None, cipher: FieldCipher | None = None) -> dict[str, int]:
    """Re-encrypts stale values under the current key; returns how many per column (``orders.phone``...)."""
    cipher = cipher or default_cipher()
    counts: dict[str, int] = {}
    for key, column, context in ENCRYPTED_COLUMNS:
        with session_scope(url) as session:
            stale = [(k, v) for k, v in session.execute(select(key, column)) if not cipher.is_current(v)]
        counts[context] = 0
        for primary_key, stored in stale:
            # Conditional on the old value, so that a concurrent write is never overwritten.
            statement = (
                update(column.table)
                .where(key == primary_key, column == stored)
                .values({column.key: cipher.reencrypt(stored, context)})
            )
            with session_scope(url) as session:
                counts[context] += session.execute(statement).rowcount
    return counts


def main() -> int:
    counts = reencrypt_all()
    for context, count in counts.items():
        print(f"{context}: {count} value(s) re-encrypted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
