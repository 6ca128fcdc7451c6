"""Baseline: documents and their versions, as the store created them before the migrations.

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
    if "documents" not in existing:
        op.create_table(
            "documents",
            sa.Column("id", sa.String(200), primary_key=True),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("doc_number", sa.String(200), nullable=False),
            sa.Column("issuer", sa.String(200), nullable=False),
            sa.Column("region", sa.String(200), nullable=False),
            sa.Column("written_date", sa.Date),
            sa.Column("published_date", sa.Date),
            sa.Column("effective_date", sa.Date),
            sa.Column("expiry_date", sa.Date),
            sa.Column("validity", sa.String(16), nullable=False),
            sa.Column("source_url", sa.Text, nullable=False),
            sa.Column("interprets", sa.String(200), nullable=False),
            sa.Column("replaced_by", sa.String(200), nullable=False),
            sa.Column("department", sa.String(200), nullable=False),
            sa.Column("tags", sa.Text, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("source_path", sa.Text, nullable=False),
            sa.Column("content_hash", sa.String(64), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
    if "document_versions" not in existing:
        op.create_table(
            "document_versions",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("doc_id", sa.String(200), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("action", sa.String(16), nullable=False),
            sa.Column("note", sa.Text, nullable=False),
            sa.Column("snapshot", sa.Text, nullable=False),
            sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
            sa.UniqueConstraint("doc_id", "version", name="uq_document_version"),
        )
        op.create_index("ix_document_versions_doc_id", "document_versions", ["doc_id"])


def downgrade() -> None:
    op.drop_table("document_versions")
    op.drop_table("documents")
