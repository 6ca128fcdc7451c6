"""The tables exactly as the code before the migrations created them (knowledge/store.py, monitor/log.py and
knowledge/workorders.py at commit 581d44a), frozen here so a test can build an old database."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Float, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

documents = Table(
    "documents",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("doc_number", String(200), nullable=False, default=""),
    Column("issuer", String(200), nullable=False, default=""),
    Column("region", String(200), nullable=False, default=""),
    Column("written_date", Date),
    Column("published_date", Date),
    Column("effective_date", Date),
    Column("expiry_date", Date),
    Column("validity", String(16), nullable=False),
    Column("source_url", Text, nullable=False, default=""),
    Column("interprets", String(200), nullable=False, default=""),
    Column("replaced_by", String(200), nullable=False, default=""),
    Column("department", String(200), nullable=False, default=""),
    Column("tags", Text, nullable=False, default="[]"),
    Column("body", Text, nullable=False),
    Column("source_path", Text, nullable=False, default=""),
    Column("content_hash", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

document_versions = Table(
    "document_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc_id", String(200), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("snapshot", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("doc_id", "version", name="uq_document_version"),
)

turns = Table(
    "conversation_turns",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("user_hash", String(64), nullable=False, index=True),
    Column("turn_key", String(128), unique=True),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False, default=""),
    Column("intent", String(64), nullable=False, default=""),
    Column("confidence", Float),
    Column("answered", Boolean, nullable=False, default=False),
    Column("cited_doc_ids", Text, nullable=False, default="[]"),
    Column("latency_ms", Float),
    Column("feedback", String(16)),
    Column("handoff", Boolean, nullable=False, default=False),
)

work_orders = Table(
    "work_orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False, default="open"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("session", String(64), nullable=False, default="", index=True),
    Column("summary", Text, nullable=False, default=""),
    Column("transcript", Text, nullable=False, default=""),
    Column("what", Text, nullable=False, default=""),
    Column("where", Text, nullable=False, default=""),
    Column("name", String(100), nullable=False, default=""),
    Column("phone", String(32), nullable=False, default=""),
    Column("department", String(200), nullable=False, default=""),
)
