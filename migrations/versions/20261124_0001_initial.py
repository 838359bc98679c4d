"""Initial tables: customers, orders, refund_requests, handoff_requests, faq.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# InnoDB for transactions and foreign keys, utf8mb4 for all of Unicode, exact (binary) comparisons.
MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
ORDER_STATUSES = ("pending_payment", "paid", "shipped", "delivered", "cancelled", "refunding", "refunded")
REFUND_STATUSES = ("submitted", "approved", "refunded", "rejected")
HANDOFF_STATUSES = ("waiting", "claimed", "closed")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        **MYSQL,
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("shipped_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("carrier", sa.String(50), nullable=True),
        sa.Column("tracking_no", sa.String(64), nullable=True),
        sa.Column("address_enc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
        sa.ForeignKeyConstraint(["user_id"], ["customers.id"], name=op.f("fk_orders_user_id_customers")),
        sa.CheckConstraint(_one_of("status", ORDER_STATUSES), name=op.f("ck_orders_status")),
        **MYSQL,
    )
    op.create_index(op.f("ix_orders_user_id"), "orders", ["user_id"])
    op.create_table(
        "refund_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_requests")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.order_id"], name=op.f("fk_refund_requests_order_id_orders")
        ),
        sa.UniqueConstraint("reference", name=op.f("uq_refund_requests_reference")),
        sa.CheckConstraint(_one_of("status", REFUND_STATUSES), name=op.f("ck_refund_requests_status")),
        **MYSQL,
    )
    op.create_index(op.f("ix_refund_requests_order_id"), "refund_requests", ["order_id"])
    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("outside_hours", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_requests")),
        sa.CheckConstraint(_one_of("status", HANDOFF_STATUSES), name=op.f("ck_handoff_requests_status")),
        **MYSQL,
    )
    op.create_index(op.f("ix_handoff_requests_sender_id"), "handoff_requests", ["sender_id"])
    op.create_index(op.f("ix_handoff_requests_status"), "handoff_requests", ["status"])
    op.create_table(
        "faq",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("question", sa.String(500), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("tags", sa.String(255), nullable=False),
        sa.Column("alternatives", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("create_time", sa.DateTime(), nullable=False),
        sa.Column("updated_time", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq")),
        sa.UniqueConstraint("topic", name=op.f("uq_faq_topic")),
        **MYSQL,
    )


def downgrade() -> None:
    # Indexes go with their tables (MySQL refuses to drop one a foreign key needs).
    for table in ("faq", "handoff_requests", "refund_requests", "orders", "customers"):
        op.drop_table(table)
