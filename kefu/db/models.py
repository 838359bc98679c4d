"""The database tables, as SQLAlchemy 1.4 declarative models written for 2.0-style use.

Columns ending in ``_enc`` hold ``kefu.security.crypto`` ciphertext, never clear text. Timestamps are
naive datetimes in the shop's time zone (``SHOP_TIMEZONE``), like the shop's own data. The
migrations in ``migrations/versions`` create these tables; a test checks that both agree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.mysql import MEDIUMTEXT
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlalchemy.orm.decl_api import DeclarativeMeta

from kefu.db.records import HandoffStatus, OrderStatus, RefundStatus

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# MySQL/MariaDB: InnoDB for transactions and foreign keys; utf8mb4 for all of Unicode; a binary
# collation so that comparisons are exact, as on PostgreSQL and SQLite.
MYSQL_TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}

# Associated data of the encrypted columns: a value decrypts only in the column it was written for.
CUSTOMER_PHONE = "customers.phone"
ORDER_PHONE = "orders.phone"
ORDER_ADDRESS = "orders.address"
HANDOFF_TRANSCRIPT = "handoff_requests.transcript"

# Long text: a handoff transcript may outgrow MySQL's TEXT (64 KB) once encrypted and base64-encoded.
LONG_TEXT = Text().with_variant(MEDIUMTEXT(), "mysql")

mapper_registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class Base(metaclass=DeclarativeMeta):
    """The declarative base, spelled out so that type checkers see a class (SQLAlchemy 1.4 docs)."""

    __abstract__ = True
    registry = mapper_registry
    metadata = mapper_registry.metadata
    __init__ = mapper_registry.constructor


class Money(TypeDecorator):
    """``NUMERIC(10, 2)`` read as a ``Decimal`` with 2 places on every backend.

    SQLite has no decimal type: amounts pass through a float there, exact for 10 digits, so SQLAlchemy's
    warning about lossy decimals does not apply and is avoided.
    """

    impl = Numeric(10, 2)
    cache_ok = True
    CENT = Decimal("0.01")

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(Numeric(10, 2, asdecimal=dialect.name != "sqlite"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(self.CENT)


def _one_of(column: str, values: type[OrderStatus] | type[RefundStatus] | type[HandoffStatus]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class CustomerRow(Base):
    __tablename__ = "customers"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id = Column(String(32), primary_key=True)
    phone_enc = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (CheckConstraint(_one_of("status", OrderStatus), name="status"), MYSQL_TABLE_OPTIONS)

    order_id = Column(String(32), primary_key=True)
    user_id = Column(String(32), ForeignKey("customers.id"), nullable=False, index=True)
    phone_enc = Column(Text, nullable=False)
    status = Column(String(32), nullable=False)
    product = Column(String(200), nullable=False)
    amount = Column(Money, nullable=False)
    created_at = Column(DateTime, nullable=False)
    shipped_at = Column(DateTime)
    delivered_at = Column(DateTime)
    carrier = Column(String(50))
    tracking_no = Column(String(64))
    address_enc = Column(Text, nullable=False)


class RefundRequestRow(Base):
    __tablename__ = "refund_requests"
    __table_args__ = (CheckConstraint(_one_of("status", RefundStatus), name="status"), MYSQL_TABLE_OPTIONS)

    id = Column(Integer, primary_key=True, autoincrement=True)
    reference = Column(String(32), nullable=False, unique=True)
    order_id = Column(String(32), ForeignKey("orders.order_id"), nullable=False, index=True)
    reason = Column(Text, nullable=False)
    status = Column(String(16), nullable=False)
    amount = Column(Money, nullable=False)
    created_at = Column(DateTime, nullable=False)


class HandoffRequestRow(Base):
    __tablename__ = "handoff_requests"
    __table_args__ = (CheckConstraint(_one_of("status", HandoffStatus), name="status"), MYSQL_TABLE_OPTIONS)

    id = Column(Integer, primary_key=True, autoincrement=True)
    sender_id = Column(String(128), nullable=False, index=True)
    user_id = Column(String(32))
    reason = Column(String(255), nullable=False)
    # AES-GCM of a JSON list of {"role": ..., "text": ...} objects (kefu.security.crypto).
    transcript_enc = Column(LONG_TEXT, nullable=False)
    status = Column(String(16), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False)
    outside_hours = Column(Boolean, nullable=False)
    claimed_by = Column(String(64))
    claimed_at = Column(DateTime)
    closed_at = Column(DateTime)


class FaqRow(Base):
    __tablename__ = "faq"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id = Column(Integer, primary_key=True, autoincrement=True)
    topic = Column(String(64), nullable=False, unique=True)
    question = Column(String(500), nullable=False)
    answer = Column(Text, nullable=False)
    tags = Column(String(255), nullable=False, default="")  # comma-separated
    alternatives = Column(Text, nullable=False)  # a JSON list of other ways customers ask
    content_hash = Column(String(64), nullable=False)
    create_time = Column(DateTime, nullable=False)
    updated_time = Column(DateTime, nullable=False)


class AnalyticsEventRow(Base):
    """One analytics event (``kefu.analytics.events``), stored once: ``event_id`` is unique."""

    __tablename__ = "analytics_events"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id = Column(Integer, primary_key=True, autoincrement=True)
    event_id = Column(String(36), nullable=False, unique=True)
    event_type = Column(String(32), nullable=False, index=True)
    occurred_at = Column(DateTime, nullable=False)  # UTC
    day = Column(String(10), nullable=False, index=True)  # YYYY-MM-DD in the shop's time zone
    sender_hash = Column(String(64), nullable=False)  # pseudonymous: a hash, never the sender id
    turn_id = Column(String(36), nullable=False, index=True)
    channel = Column(String(32))
    intent = Column(String(64))
    confidence = Column(Float)
    question = Column(String(500))  # masked
    source_type = Column(String(16))
    source_id = Column(String(64))
    faq_hit = Column(Boolean)
    latency_ms = Column(Integer)
    reason = Column(String(32))
    payload = Column(Text, nullable=False)  # the whole event as JSON


class AccountRow(Base):
    """A user of the admin API (``kefu.admin``): staff (``admin``, ``agent``) or a ``customer``."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'agent', 'customer')", name="role"),
        MYSQL_TABLE_OPTIONS,
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)  # kefu.admin.passwords: scrypt, salted
    role = Column(String(16), nullable=False)
    active = Column(Boolean, nullable=False)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class AuthTokenRow(Base):
    """An admin API bearer token: only its SHA-256 is stored; it expires and can be revoked."""

    __tablename__ = "auth_tokens"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id = Column(Integer, primary_key=True, autoincrement=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    account_id = Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)
    revoked_at = Column(DateTime)


WECHAT_OPENID = "wechat_contacts.openid"


class WechatContactRow(Base):
    """A WeChat customer (公众号 OpenID or WeCom external_userid, encrypted) behind a sender id.

    ``sender_id`` is a keyed hash of the id, so that the id itself never shows in conversations,
    logs or the admin views; ``user_id`` is the shop customer the contact proved to be (a binding).
    """

    __tablename__ = "wechat_contacts"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    sender_id = Column(String(64), primary_key=True)
    channel = Column(String(16), nullable=False)
    openid_enc = Column(Text, nullable=False)
    open_kfid = Column(String(64))  # WeCom: the customer-service account the customer writes to
    user_id = Column(String(32))
    bound_at = Column(DateTime)
    choices = Column(Text)  # JSON list: the payloads of the numbered choices last offered
    created_at = Column(DateTime, nullable=False)


class WechatSeenRow(Base):
    """A WeChat message already taken (its MsgId, or sender and time for events), for deduplication."""

    __tablename__ = "wechat_seen"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    key = Column(String(64), primary_key=True)
    seen_at = Column(DateTime, nullable=False, index=True)


class WecomCursorRow(Base):
    """How far ``sync_msg`` has read one WeCom customer-service account's messages."""

    __tablename__ = "wecom_cursors"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    open_kfid = Column(String(64), primary_key=True)
    cursor = Column(String(255), nullable=False)
    updated_at = Column(DateTime, nullable=False)


class VerificationAttemptRow(Base):
    """Wrong phone-digit answers of one order or client (``kefu.security.verification``).

    Times are Unix seconds, like the Redis backend's, so that lock arithmetic never meets time zones.
    """

    __tablename__ = "verification_attempts"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    subject = Column(String(100), primary_key=True)  # order:<id>, ip:<address> or sender:<hash>
    failures = Column(Integer, nullable=False)
    locks = Column(Integer, nullable=False)
    locked_until = Column(BigInteger, nullable=False, index=True)
    last_failure = Column(BigInteger, nullable=False)


class ProductRow(Base):
    """A product of the shop's catalog (``kefu.catalog``); specs and aliases are JSON lists."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("returnable_7d IN ('yes', 'no', '拆封后不支持')", name="returnable_7d"),
        MYSQL_TABLE_OPTIONS,
    )

    sku = Column(String(32), primary_key=True)
    name = Column(String(200), nullable=False)
    category = Column(String(50), nullable=False, index=True)
    price = Column(Money, nullable=False)
    specs = Column(Text, nullable=False)  # JSON list of [key, value]
    returnable_7d = Column(String(16), nullable=False)
    carrier = Column(String(50))
    warranty = Column(String(255))
    presale_ship_date = Column(Date)
    description = Column(String(500), nullable=False)
    aliases = Column(Text, nullable=False)  # JSON list of other names
    content_hash = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class ProductVariantRow(Base):
    """One variant value of a product; ``stock`` is NULL where stock is not held on its dimension."""

    __tablename__ = "product_variants"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id = Column(Integer, primary_key=True, autoincrement=True)
    sku = Column(String(32), ForeignKey("products.sku", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    dimension = Column(String(32), nullable=False)
    value = Column(String(100), nullable=False)
    stock = Column(Integer)
    presale = Column(Boolean, nullable=False)
