"""Live calls: segments posted as a call goes, kept in the database so every API process sees the same call.

A call's segments are stored masked (phone, ID-card and bank-card numbers); the callback number the draft
needs is recognised before masking and kept in the call's own ``phone`` column, the one exception. The
assistance computed after each change is stored with the revision it was computed for, so a server-sent
event stream in any process pushes it without computing it again.

The tables are declared here (the hotline owns its calls); monitor's migration tree creates them
(``monitor/migrations/versions/0005_hotline_calls.py``) so one ``python -m monitor migrate`` upgrades the
database the work orders live in.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    func,
    insert,
    select,
    update,
)

from knowledge.db import open_engine
from knowledge.errors import KnowledgeError
from knowledge.privacy import mask_personal_data
from monitor.migrations import MONITOR

from .errors import TranscriptError
from .transcript import parse_transcript

metadata = MetaData()

calls_table = Table(
    "hotline_calls",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),  # open | closed
    Column("revision", Integer, nullable=False),  # segments stored so far
    Column("phone", String(32), nullable=False),  # the callback number the draft needs, in full
    Column("result", Text),  # the assistance JSON (masked) computed at ``result_revision``
    Column("result_revision", Integer, nullable=False),
    Column("work_order", String(32)),  # the number of the order saved from this call
)

segments_table = Table(
    "hotline_call_segments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(32), ForeignKey("hotline_calls.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("speaker", String(64), nullable=False),
    Column("text", Text, nullable=False),  # masked
    Column("start_ms", Integer),
    Column("end_ms", Integer),
    UniqueConstraint("call_id", "seq", name="uq_hotline_call_segments_call_seq"),
)

# what a hotline work order holds beyond the work-order table's columns, keyed by its number
order_details_table = Table(
    "hotline_work_orders",
    metadata,
    Column("number", String(32), primary_key=True),
    Column("call_id", String(32)),
    Column("called_at", DateTime(timezone=True), nullable=False),  # 来电时间
    Column("answered_content", Text, nullable=False),  # 已答复内容 (masked)
    Column("needs_transfer", Boolean, nullable=False),  # 是否需要转办
)

CALL_ID = re.compile(r"^[a-f0-9]{32}$")
# control characters, and lone UTF-16 surrogates ("\\ud800" in JSON): no text holds them, no response could
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class CallNotFound(KnowledgeError):
    code = "call_not_found"
    status = 404

    def __init__(self, call_id: str) -> None:
        super().__init__("没有这个通话（编号不存在或已过期）。")
        self.call_id = call_id


class CallClosed(KnowledgeError):
    code = "call_closed"
    status = 409

    def __init__(self, call_id: str) -> None:
        super().__init__("这个通话已经结束，不能再追加转写片段。")
        self.call_id = call_id


@dataclass(frozen=True)
class Segment:
    """One piece of a call as stored: who (label or speaker id as given, may be empty) and what (masked)."""

    speaker: str
    text: str
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class Call:
    """A live call's state; ``result`` is the masked assistance JSON computed at ``result_revision``."""

    id: str
    status: str
    created_at: datetime
    closed_at: datetime | None
    revision: int
    phone: str
    result: dict[str, Any] | None
    result_revision: int
    work_order: str | None

    @property
    def closed(self) -> bool:
        return self.status == "closed"


@dataclass(frozen=True)
class OrderDetails:
    """The hotline fields of a work order: 来电时间, 已答复内容, 是否需要转办, and the call it came from."""

    number: str
    call_id: str | None
    called_at: datetime
    answered_content: str
    needs_transfer: bool


def check_characters(raw: Any) -> None:
    """Refuse control characters anywhere in a transcript's text (415 when it looks binary, else 422)."""
    texts = [raw] if isinstance(raw, str) else [s for s in _strings(raw)]
    found = sum(len(CONTROL.findall(text)) for text in texts)
    if not found:
        return
    if any("\x00" in text for text in texts) or found > 2:
        raise TranscriptError.binary()
    raise TranscriptError("control_characters", "转写文本含有控制字符，请只粘贴文字或 JSON 结果。", 422)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for key, item in value.items() for s in (*_strings(key), *_strings(item))]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def _drop_partials(raw: Any) -> Any:
    """FunASR 2pass streams send each sentence twice: an online guess, then the corrected offline pass."""
    if isinstance(raw, str) and raw.strip()[:1] in ("[", "{"):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return raw
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, Mapping) else None
    if items is None or not all(isinstance(item, Mapping) for item in items):
        return raw
    kept = [item for item in items if not str(item.get("mode", "")).endswith("-online")]
    return kept if isinstance(raw, list) else (kept[0] if kept else [])


def segments_of(raw: Any, max_chars: int) -> list[Segment]:
    """The segments of a posted piece of a call (text, FunASR JSON or stream messages, segment list), unmasked.

    Empty for a FunASR online partial (its offline pass follows); a ``TranscriptError`` for unreadable input."""
    check_characters(raw)
    raw = _drop_partials(raw)
    if raw == []:
        return []
    transcript = parse_transcript(raw, max_chars)
    # unlabelled turns keep an empty speaker: roles are inferred again over the whole call
    return [Segment(turn.speaker, turn.text, turn.start_ms, turn.end_ms) for turn in transcript.turns]


def call_input(segments: Sequence[Segment]) -> str | list[dict[str, Any]]:
    """A call's segments as the transcript parser reads them: labelled segments as a list, unlabelled as lines."""
    if not any(segment.speaker for segment in segments):
        return "\n".join(segment.text.replace("\n", " ") for segment in segments)
    return [{"speaker": s.speaker, "text": s.text, "start_ms": s.start_ms, "end_ms": s.end_ms} for s in segments]


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


class CallStore:
    """Live calls in SQLite or PostgreSQL (the work orders' database). Constructing it touches no database."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))
        self._ready = False

    @classmethod
    def open(cls, url: str) -> CallStore:
        return cls(open_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    def ensure(self) -> None:
        """Check the schema once: an empty database is created, an older one refused (SchemaOutdated)."""
        if not self._ready:
            MONITOR.ensure(self.engine)
            self._ready = True

    def create(self) -> Call:
        """A new open call with an unguessable id."""
        self.ensure()
        now = self.clock()
        call_id = secrets.token_hex(16)
        with self.engine.begin() as conn:
            conn.execute(
                insert(calls_table).values(
                    id=call_id, created_at=now, updated_at=now, status="open", revision=0, phone="", result_revision=0
                )
            )
        return Call(call_id, "open", now, None, 0, "", None, 0, None)

    def get(self, call_id: str) -> Call:
        """The call, or CallNotFound (also for an id that cannot be one)."""
        if not CALL_ID.match(call_id or ""):
            raise CallNotFound(call_id)
        self.ensure()
        with self.engine.connect() as conn:
            row = conn.execute(select(calls_table).where(calls_table.c.id == call_id)).first()
        if row is None:
            raise CallNotFound(call_id)
        return Call(
            id=row.id,
            status=row.status,
            created_at=_aware(row.created_at) or row.created_at,
            closed_at=_aware(row.closed_at),
            revision=row.revision,
            phone=row.phone,
            result=json.loads(row.result) if row.result else None,
            result_revision=row.result_revision,
            work_order=row.work_order,
        )

    def segments(self, call_id: str, up_to: int | None = None) -> list[Segment]:
        """The call's stored (masked) segments in order, the first ``up_to`` of them when given."""
        t = segments_table.c
        query = select(t.speaker, t.text, t.start_ms, t.end_ms).where(t.call_id == call_id)
        if up_to is not None:
            query = query.where(t.seq <= up_to)
        with self.engine.connect() as conn:
            return [Segment(*row) for row in conn.execute(query.order_by(t.seq))]

    def characters(self, call_id: str) -> int:
        """Characters of text the call holds so far (for the transcript limit)."""
        with self.engine.connect() as conn:
            query = select(func.coalesce(func.sum(func.length(segments_table.c.text)), 0))
            return int(conn.execute(query.where(segments_table.c.call_id == call_id)).scalar_one())

    def append(self, call_id: str, segments: Sequence[Segment], phone: str = "") -> int:
        """Store segments (masked here) after the call's last one; returns the call's new revision.

        ``phone``: the callback number recognised in them, kept when the call has none yet.
        CallNotFound / CallClosed. The revision is raised first, in the same transaction: that row lock
        orders concurrent writers, each getting its own consecutive sequence numbers."""
        call = self.get(call_id)
        if call.closed:
            raise CallClosed(call_id)
        if not segments:
            return call.revision
        c = calls_table.c
        bump = (
            update(calls_table)
            .where(c.id == call_id, c.status == "open")
            .values(
                revision=c.revision + len(segments),
                updated_at=self.clock(),
                phone=case((c.phone == "", phone[:32]), else_=c.phone),
            )
            .returning(c.revision)
        )
        with self.engine.begin() as conn:
            revision = conn.execute(bump).scalar_one_or_none()
            if revision is None:
                raise CallClosed(call_id)  # closed between the read and the write
            first = revision - len(segments) + 1
            conn.execute(
                insert(segments_table),
                [
                    {
                        "call_id": call_id,
                        "seq": first + offset,
                        "speaker": mask_personal_data(segment.speaker)[:64],
                        "text": mask_personal_data(segment.text),
                        "start_ms": segment.start_ms,
                        "end_ms": segment.end_ms,
                    }
                    for offset, segment in enumerate(segments)
                ],
            )
        return int(revision)

    def save_result(self, call_id: str, revision: int, result: Mapping[str, Any]) -> bool:
        """Keep the assistance computed at ``revision`` unless a newer one is already stored."""
        c = calls_table.c
        query = (
            update(calls_table)
            .where(c.id == call_id, c.result_revision <= revision)
            .values(result=json.dumps(result, ensure_ascii=False), result_revision=revision)
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(query).rowcount)

    def finish(self, call_id: str) -> Call:
        """Mark the call closed (idempotent); no segment is accepted after it."""
        c = calls_table.c
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                update(calls_table)
                .where(c.id == call_id, c.status == "open")
                .values(status="closed", closed_at=now, updated_at=now)
            )
        return self.get(call_id)

    def link_order(self, call_id: str, number: str) -> None:
        """Remember the work order saved from the call."""
        with self.engine.begin() as conn:
            conn.execute(update(calls_table).where(calls_table.c.id == call_id).values(work_order=number))

    def save_details(self, details: OrderDetails) -> None:
        """Store a hotline order's own fields once (a retried save keeps the first)."""
        self.ensure()
        t = order_details_table.c
        with self.engine.begin() as conn:
            if conn.execute(select(t.number).where(t.number == details.number)).first() is None:
                conn.execute(
                    insert(order_details_table).values(
                        number=details.number,
                        call_id=details.call_id,
                        called_at=details.called_at,
                        answered_content=mask_personal_data(details.answered_content),
                        needs_transfer=details.needs_transfer,
                    )
                )

    def details(self, numbers: Sequence[str]) -> dict[str, OrderDetails]:
        """The hotline fields of these work orders (those that have them)."""
        self.ensure()
        t = order_details_table.c
        found: dict[str, OrderDetails] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(numbers), 500):
                query = select(order_details_table).where(t.number.in_(list(numbers[start : start + 500])))
                for row in conn.execute(query):
                    found[row.number] = OrderDetails(
                        row.number,
                        row.call_id,
                        _aware(row.called_at) or row.called_at,
                        row.answered_content,
                        bool(row.needs_transfer),
                    )
        return found
