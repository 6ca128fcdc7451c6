"""Imported citizen messages (问政 platforms, mailboxes) with their vectors, keyed by source + 留言编号.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_messages",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("likes", sa.Integer, nullable=False),
        sa.Column("dislikes", sa.Integer, nullable=False),
        sa.Column("reply", sa.Text),
        sa.Column("reply_at", sa.DateTime),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("embed_hash", sa.String(64), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
        sa.Column("reply_embedding", sa.LargeBinary),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("source", "external_id", name="uq_citizen_messages_source_external_id"),
    )
    op.create_index("ix_citizen_messages_at", "citizen_messages", ["at"])
    op.create_index("ix_citizen_messages_content_hash", "citizen_messages", ["content_hash"])
    op.create_index("ix_citizen_messages_embed_hash", "citizen_messages", ["embed_hash"])


def downgrade() -> None:
    op.drop_table("citizen_messages")
