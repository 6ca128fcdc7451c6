"""The citizen-record tables at the head revision: the conversation log and work orders.

The migrations in ``monitor/migrations/versions`` create and change them; to change a table, edit it here,
then run ``python -m monitor revision -m "what changed"`` and review the generated file.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text, false

metadata = MetaData()

turns = Table(
    "conversation_turns",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("user_hash", String(64), nullable=False, index=True),
    Column("turn_key", String(128), unique=True),  # a channel's own message id: retries log once
    Column("question", Text, nullable=False),  # "" when the citizen pressed a button (see ``choice``)
    Column("answer", Text, nullable=False, default=""),
    Column("intent", String(64), nullable=False, default=""),
    Column("confidence", Float),
    Column("answered", Boolean, nullable=False, default=False),
    Column("cited_doc_ids", Text, nullable=False, default="[]"),
    Column("latency_ms", Float),
    Column("feedback", String(16)),
    Column("handoff", Boolean, nullable=False, default=False),
    # revision 0002
    Column("reply_kind", String(16), nullable=False, default="", server_default=""),
    Column("work_order", String(32)),
    Column("choice", Text),  # what the citizen chose: a button or feedback payload such as /feedback_positive
)

# feedback on a turn that is not written yet (spooled during an outage): applied when the turn lands
pending_feedback = Table(
    "conversation_pending_feedback",
    metadata,
    Column("turn_id", String(32), primary_key=True),
    Column("feedback", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
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
    Column("summary", Text, nullable=False, default=""),  # 摘要
    Column("transcript", Text, nullable=False, default=""),
    Column("what", Text, nullable=False, default=""),
    Column("where", Text, nullable=False, default=""),  # 地点
    Column("name", String(100), nullable=False, default=""),
    Column("phone", String(32), nullable=False, default=""),  # the callback phone, in full
    Column("department", String(200), nullable=False, default=""),
    # revision 0002
    Column("idempotency_key", String(64)),
    Column("updated_at", DateTime(timezone=True)),
    Column("appeal_type", String(32), nullable=False, default="", server_default=""),  # 诉求类型
    Column("category", String(100), nullable=False, default="", server_default=""),  # 事项分类
    Column("suggested_department", String(200), nullable=False, default="", server_default=""),  # 建议承办单位
    Column("notice_pending", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_work_orders_idempotency_key", "idempotency_key", unique=True),
)

# the last number given out per Beijing day, raised in the transaction that inserts the order
work_order_counters = Table(
    "work_order_counters",
    metadata,
    Column("day", String(8), primary_key=True),
    Column("last", Integer, nullable=False),
)
