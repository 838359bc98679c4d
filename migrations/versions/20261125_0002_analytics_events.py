"""Analytics events, written by the analytics consumer (``kefu.analytics.consumer``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("sender_hash", sa.String(64), nullable=False),
        sa.Column("turn_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("question", sa.String(500), nullable=True),
        sa.Column("source_type", sa.String(16), nullable=True),
        sa.Column("source_id", sa.String(64), nullable=True),
        sa.Column("faq_hit", sa.Boolean(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_analytics_events_event_id")),
        **MYSQL,
    )
    op.create_index(op.f("ix_analytics_events_event_type"), "analytics_events", ["event_type"])
    op.create_index(op.f("ix_analytics_events_day"), "analytics_events", ["day"])
    op.create_index(op.f("ix_analytics_events_turn_id"), "analytics_events", ["turn_id"])


def downgrade() -> None:
    op.drop_table("analytics_events")
