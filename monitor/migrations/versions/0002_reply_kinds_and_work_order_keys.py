"""Reply kinds, choices and work-order numbers in the log; idempotency keys, counters and hotline fields.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NUMBER = re.compile(r"^GD(\d{8})-(\d+)$")


def upgrade() -> None:
    op.add_column("conversation_turns", sa.Column("reply_kind", sa.String(16), nullable=False, server_default=""))
    op.add_column("conversation_turns", sa.Column("work_order", sa.String(32)))
    op.add_column("conversation_turns", sa.Column("choice", sa.Text))
    op.create_table(
        "conversation_pending_feedback",
        sa.Column("turn_id", sa.String(32), primary_key=True),
        sa.Column("feedback", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("work_orders", sa.Column("idempotency_key", sa.String(64)))
    op.add_column("work_orders", sa.Column("updated_at", sa.DateTime(timezone=True)))
    op.add_column("work_orders", sa.Column("appeal_type", sa.String(32), nullable=False, server_default=""))
    op.add_column("work_orders", sa.Column("category", sa.String(100), nullable=False, server_default=""))
    op.add_column("work_orders", sa.Column("suggested_department", sa.String(200), nullable=False, server_default=""))
    op.add_column("work_orders", sa.Column("notice_pending", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_work_orders_idempotency_key", "work_orders", ["idempotency_key"], unique=True)
    counters = op.create_table(
        "work_order_counters",
        sa.Column("day", sa.String(8), primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )
    # numbering goes on after the highest number each day already has
    last: dict[str, int] = {}
    for (number,) in op.get_bind().execute(sa.text("SELECT number FROM work_orders")):
        found = NUMBER.match(number or "")
        if found:
            last[found[1]] = max(last.get(found[1], 0), int(found[2]))
    if last:
        op.bulk_insert(counters, [{"day": day, "last": value} for day, value in sorted(last.items())])


def downgrade() -> None:
    op.drop_table("work_order_counters")
    op.drop_index("ix_work_orders_idempotency_key", "work_orders")
    for name in ("notice_pending", "suggested_department", "category", "appeal_type", "updated_at", "idempotency_key"):
        op.drop_column("work_orders", name)
    op.drop_table("conversation_pending_feedback")
    for name in ("choice", "work_order", "reply_kind"):
        op.drop_column("conversation_turns", name)
