"""Baseline: the conversation log and work orders as they were created before the migrations.

A table that already exists (a database from before the migrations) is left as it is, so upgrading such a
database adopts it with its rows.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "conversation_turns" not in existing:
        op.create_table(
            "conversation_turns",
            sa.Column("id", sa.String(32), primary_key=True),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("channel", sa.String(16), nullable=False),
            sa.Column("user_hash", sa.String(64), nullable=False),
            sa.Column("turn_key", sa.String(128), unique=True),
            sa.Column("question", sa.Text, nullable=False),
            sa.Column("answer", sa.Text, nullable=False),
            sa.Column("intent", sa.String(64), nullable=False),
            sa.Column("confidence", sa.Float),
            sa.Column("answered", sa.Boolean, nullable=False),
            sa.Column("cited_doc_ids", sa.Text, nullable=False),
            sa.Column("latency_ms", sa.Float),
            sa.Column("feedback", sa.String(16)),
            sa.Column("handoff", sa.Boolean, nullable=False),
        )
        op.create_index("ix_conversation_turns_at", "conversation_turns", ["at"])
        op.create_index("ix_conversation_turns_user_hash", "conversation_turns", ["user_hash"])
    if "work_orders" not in existing:
        op.create_table(
            "work_orders",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("number", sa.String(32), nullable=False, unique=True),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("session", sa.String(64), nullable=False),
            sa.Column("summary", sa.Text, nullable=False),
            sa.Column("transcript", sa.Text, nullable=False),
            sa.Column("what", sa.Text, nullable=False),
            sa.Column("where", sa.Text, nullable=False),
            sa.Column("name", sa.String(100), nullable=False),
            sa.Column("phone", sa.String(32), nullable=False),
            sa.Column("department", sa.String(200), nullable=False),
        )
        op.create_index("ix_work_orders_session", "work_orders", ["session"])


def downgrade() -> None:
    op.drop_table("work_orders")
    op.drop_table("conversation_turns")
