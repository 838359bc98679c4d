"""The WeChat channels' state: contacts (encrypted ids, bindings), seen messages, WeCom cursors.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "wechat_contacts",
        sa.Column("sender_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("openid_enc", sa.Text(), nullable=False),
        sa.Column("open_kfid", sa.String(64), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("bound_at", sa.DateTime(), nullable=True),
        sa.Column("choices", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", name=op.f("pk_wechat_contacts")),
        **MYSQL,
    )
    op.create_table(
        "wechat_seen",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wechat_seen")),
        **MYSQL,
    )
    op.create_index(op.f("ix_wechat_seen_seen_at"), "wechat_seen", ["seen_at"])
    op.create_table(
        "wecom_cursors",
        sa.Column("open_kfid", sa.String(64), nullable=False),
        sa.Column("cursor", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("open_kfid", name=op.f("pk_wecom_cursors")),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("wecom_cursors")
    op.drop_index(op.f("ix_wechat_seen_seen_at"), table_name="wechat_seen")
    op.drop_table("wechat_seen")
    op.drop_table("wechat_contacts")
