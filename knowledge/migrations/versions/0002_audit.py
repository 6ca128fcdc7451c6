"""Audit: who made each change to a document (``document_versions.actor``); rows from before it keep "".

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_versions") as table:
        table.add_column(sa.Column("actor", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    # the history itself is never dropped; only who made each change is forgotten
    with op.batch_alter_table("document_versions") as table:
        table.drop_column("actor")
