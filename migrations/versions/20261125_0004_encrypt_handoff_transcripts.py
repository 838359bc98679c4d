"""Handoff transcripts encrypted at rest: ``transcript`` (JSON in clear) becomes ``transcript_enc``.

Existing transcripts are encrypted with the current key of ``KEFU_ENCRYPTION_KEYS`` on the way up and
decrypted on the way down. MySQL/MariaDB get MEDIUMTEXT: an encrypted transcript can outgrow TEXT.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from kefu.security.crypto import default_cipher

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CONTEXT = "handoff_requests.transcript"  # kefu.db.models.HANDOFF_TRANSCRIPT, as of this revision
LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")


def _copy(source: str, target: str, convert) -> None:
    table = sa.table("handoff_requests", sa.column("id", sa.Integer), sa.column(source), sa.column(target))
    connection = op.get_bind()
    for row_id, value in connection.execute(sa.select(table.c.id, table.c[source])).all():
        connection.execute(table.update().where(table.c.id == row_id).values({target: convert(value)}))


def upgrade() -> None:
    with op.batch_alter_table("handoff_requests") as batch:
        batch.add_column(sa.Column("transcript_enc", LONG_TEXT, nullable=True))
    cipher = default_cipher()
    _copy("transcript", "transcript_enc", lambda clear: cipher.encrypt(clear, CONTEXT))
    with op.batch_alter_table("handoff_requests") as batch:
        batch.drop_column("transcript")
        batch.alter_column("transcript_enc", existing_type=LONG_TEXT, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("handoff_requests") as batch:
        batch.add_column(sa.Column("transcript", sa.Text(), nullable=True))
    cipher = default_cipher()
    _copy("transcript_enc", "transcript", lambda stored: cipher.decrypt(stored, CONTEXT))
    with op.batch_alter_table("handoff_requests") as batch:
        batch.drop_column("transcript_enc")
        batch.alter_column("transcript", existing_type=sa.Text(), nullable=False)
