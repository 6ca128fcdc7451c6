"""Hotline live calls: calls, their (masked) segments, and the hotline fields of the work orders saved from them.

Tables declared in hotline/calls.py (the hotline owns its calls); monitor's tree carries them so one
``python -m monitor migrate`` upgrades the database the work orders live in.

Revision ID: 0005_hotline_calls
Revises: 0004_accounts
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_hotline_calls"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotline_calls",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("result", sa.Text),
        sa.Column("result_revision", sa.Integer, nullable=False),
        sa.Column("work_order", sa.String(32)),
    )
    op.create_table(
        "hotline_call_segments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(32), sa.ForeignKey("hotline_calls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("speaker", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("start_ms", sa.Integer),
        sa.Column("end_ms", sa.Integer),
        sa.UniqueConstraint("call_id", "seq", name="uq_hotline_call_segments_call_seq"),
    )
    op.create_index("ix_hotline_call_segments_call_id", "hotline_call_segments", ["call_id"])
    op.create_table(
        "hotline_work_orders",
        sa.Column("number", sa.String(32), primary_key=True),
        sa.Column("call_id", sa.String(32)),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_content", sa.Text, nullable=False),
        sa.Column("needs_transfer", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hotline_work_orders")
    op.drop_index("ix_hotline_call_segments_call_id", table_name="hotline_call_segments")
    op.drop_table("hotline_call_segments")
    op.drop_table("hotline_calls")
