"""Work orders (工单): conversations handed to people — handoffs, complaints, unanswered questions."""

from __future__ import annotations

import builtins
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, Text, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .db import open_engine
from .errors import KnowledgeError
from .privacy import mask_personal_data

log = logging.getLogger(__name__)

# China has one time zone and no daylight saving: work-order numbers carry the Beijing date.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
NUMBER_PREFIX = "GD"
_CREATE_ATTEMPTS = 5  # two writers may pick the same next number; the unique index makes one retry

metadata = MetaData()

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


class WorkOrderKind(StrEnum):
    """Why a conversation became a work order."""

    HANDOFF = "handoff"  # the citizen asked for a person
    COMPLAINT = "complaint"  # a complaint or report filled in through the form
    NO_ANSWER = "no_answer"  # the assistant failed repeatedly and handed over by itself


class WorkOrderUnavailable(KnowledgeError):
    """The work order could not be written; the message never carries the statement's parameters."""

    code = "work_order_unavailable"
    status = 503

    def __init__(self, cause: Exception) -> None:
        # SQLAlchemy's own message lists the parameters, which hold the caller's phone number
        super().__init__(f"work order store unavailable ({type(cause).__name__})")


class WorkOrderNotFound(KnowledgeError):
    code = "work_order_not_found"
    status = 404

    def __init__(self, number: str) -> None:
        super().__init__(f"no work order numbered {number!r}")
        self.number = number


@dataclass(frozen=True)
class WorkOrder:
    """One stored work order; every text field except ``phone`` is already masked."""

    number: str
    kind: WorkOrderKind
    status: str
    created_at: datetime
    session: str
    summary: str
    transcript: str
    what: str = ""
    where: str = ""
    name: str = ""
    phone: str = ""  # kept in full, in its own column, so staff can call back
    department: str = ""


def session_key(sender_id: str) -> str:
    """A stable key for a conversation that does not store the channel's user id (e.g. a WeChat openid)."""
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:16] if sender_id else ""


def _work_order(row: Any) -> WorkOrder:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return WorkOrder(
        number=row.number,
        kind=WorkOrderKind(row.kind),
        status=row.status,
        created_at=created,
        session=row.session,
        summary=row.summary,
        transcript=row.transcript,
        what=row.what,
        where=row.where,
        name=row.name,
        phone=row.phone,
        department=row.department,
    )


class WorkOrderStore:
    """Work orders in the knowledge database (SQLite or PostgreSQL), numbered GD<Beijing date>-<seq>."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))
        metadata.create_all(engine)

    @classmethod
    def open(cls, url: str) -> WorkOrderStore:
        """Open (and create if needed) the work-order table at a SQLAlchemy URL."""
        return cls(open_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    def create(
        self,
        kind: WorkOrderKind | str,
        *,
        sender_id: str = "",
        summary: str = "",
        transcript: str = "",
        what: str = "",
        where: str = "",
        name: str = "",
        phone: str = "",
        department: str = "",
    ) -> WorkOrder:
        """Store a new open work order; personal data in its texts is masked before it is written.

        Raises WorkOrderUnavailable when the database cannot take it."""
        kind = WorkOrderKind(kind)
        created = self.clock()
        prefix = f"{NUMBER_PREFIX}{created.astimezone(BEIJING):%Y%m%d}-"
        values = {
            "kind": kind.value,
            "status": "open",
            "created_at": created,
            "session": session_key(sender_id),
            "summary": mask_personal_data(summary),
            "transcript": mask_personal_data(transcript),
            "what": mask_personal_data(what),
            "where": mask_personal_data(where),
            "name": mask_personal_data(name)[:100],
            "phone": phone.strip()[:32],
            "department": department[:200],
        }
        try:
            for _ in range(_CREATE_ATTEMPTS - 1):
                try:
                    return self._insert(prefix, values)
                except IntegrityError:
                    log.info("work order number under %s taken by another writer; retrying", prefix)
            return self._insert(prefix, values)
        except SQLAlchemyError as error:
            raise WorkOrderUnavailable(error) from None

    def _insert(self, prefix: str, values: dict[str, Any]) -> WorkOrder:
        with self.engine.begin() as conn:
            # rows are never deleted, so today's count + 1 is the next free number (unique index guards races)
            today = conn.execute(
                select(func.count()).select_from(work_orders).where(work_orders.c.number.like(f"{prefix}%"))
            ).scalar_one()
            number = f"{prefix}{int(today) + 1:04d}"
            conn.execute(insert(work_orders).values(number=number, **values))
        return self.get(number)

    def get(self, number: str) -> WorkOrder:
        """The work order with this number, or WorkOrderNotFound."""
        with self.engine.connect() as conn:
            row = conn.execute(select(work_orders).where(work_orders.c.number == number)).first()
        if row is None:
            raise WorkOrderNotFound(number)
        return _work_order(row)

    def list(self, limit: int = 50) -> builtins.list[WorkOrder]:
        """The newest work orders first."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = select(work_orders).order_by(work_orders.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_work_order(row) for row in conn.execute(query)]
