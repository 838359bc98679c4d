"""The shop's product catalog (``kefu.catalog``): products and their variants with stock.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("sku", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("specs", sa.Text(), nullable=False),
        sa.Column("returnable_7d", sa.String(16), nullable=False),
        sa.Column("carrier", sa.String(50), nullable=True),
        sa.Column("warranty", sa.String(255), nullable=True),
        sa.Column("presale_ship_date", sa.Date(), nullable=True),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "returnable_7d IN ('yes', 'no', '拆封后不支持')", name=op.f("ck_products_returnable_7d")
        ),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_products")),
        **MYSQL,
    )
    op.create_index(op.f("ix_products_category"), "products", ["category"])
    op.create_table(
        "product_variants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(32), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("presale", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sku"], ["products.sku"], name=op.f("fk_product_variants_sku_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
        **MYSQL,
    )
    op.create_index(op.f("ix_product_variants_sku"), "product_variants", ["sku"])


def downgrade() -> None:
    op.drop_table("product_variants")
    op.drop_table("products")
