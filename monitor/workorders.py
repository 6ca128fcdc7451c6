"""Work orders (工单): conversations handed to people — handoffs, complaints, unanswered questions, hotline calls.

Numbers are GD<Beijing date>-<seq>, taken from a per-day counter row raised in the transaction that inserts
the order, so they survive deletes and concurrent writers. An idempotency key (the conversation and the
message that triggered the order) makes a retried handoff or complaint return the order already stored.
"""

from __future__ import annotations

import builtins
import hashlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from knowledge.db import open_engine
from knowledge.errors import KnowledgeError
from knowledge.privacy import mask_personal_data

from .migrations import MONITOR
from .schema import work_order_counters, work_orders

log = logging.getLogger(__name__)

# China has one time zone and no daylight saving: work-order numbers carry the Beijing date.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
NUMBER_PREFIX = "GD"


class WorkOrderKind(StrEnum):
    """Why a conversation became a work order."""

    HANDOFF = "handoff"  # the citizen asked for a person
    COMPLAINT = "complaint"  # a complaint or report filled in through the form
    NO_ANSWER = "no_answer"  # the assistant failed repeatedly and handed over by itself
    HOTLINE = "hotline"  # drafted from a call by the hotline console


class WorkOrderStatus(StrEnum):
    """Where a work order is in its life; ``draft`` is a hotline call not yet submitted."""

    DRAFT = "draft"
    OPEN = "open"
    ASSIGNED = "assigned"
    REPLIED = "replied"
    CLOSED = "closed"


TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    WorkOrderStatus.DRAFT: frozenset({WorkOrderStatus.OPEN, WorkOrderStatus.CLOSED}),  # submitted, or discarded
    WorkOrderStatus.OPEN: frozenset({WorkOrderStatus.ASSIGNED, WorkOrderStatus.CLOSED}),
    WorkOrderStatus.ASSIGNED: frozenset({WorkOrderStatus.REPLIED, WorkOrderStatus.OPEN}),  # replied, or sent back
    WorkOrderStatus.REPLIED: frozenset({WorkOrderStatus.CLOSED, WorkOrderStatus.ASSIGNED}),  # closed, or reopened
    WorkOrderStatus.CLOSED: frozenset(),
}


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


class InvalidTransition(KnowledgeError):
    """A status change the lifecycle does not allow (or another writer changed the status first)."""

    code = "invalid_transition"
    status = 409

    def __init__(self, number: str, current: WorkOrderStatus, wanted: WorkOrderStatus) -> None:
        super().__init__(f"work order {number} is {current.value}; it cannot become {wanted.value}")


def session_key(sender_id: str) -> str:
    """A stable key for a conversation that does not store the channel's user id (e.g. a WeChat openid)."""
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:16] if sender_id else ""


def idempotency_key(*parts: str) -> str:
    """A key from what identifies one request (conversation, triggering message, kind): same parts, same order."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]


_MASKED_TEXTS = ("summary", "transcript", "what", "where")


@dataclass(frozen=True)
class WorkOrderRequest:
    """What a new work order holds before it has a number; texts are masked, ``phone`` kept for the callback."""

    kind: WorkOrderKind
    session: str = ""
    idempotency_key: str | None = None
    status: WorkOrderStatus = WorkOrderStatus.OPEN
    summary: str = ""  # 摘要
    transcript: str = ""
    what: str = ""
    where: str = ""  # 地点
    name: str = ""
    phone: str = ""  # the callback phone, in full, in its own column, so staff can call back
    department: str = ""
    appeal_type: str = ""  # 诉求类型 (hotline)
    category: str = ""  # 事项分类 (hotline)
    suggested_department: str = ""  # 建议承办单位 (hotline)

    @classmethod
    def of(
        cls, kind: WorkOrderKind | str, *, sender_id: str = "", key: str | None = None, **values: Any
    ) -> WorkOrderRequest:
        """A request with its texts masked; ValueError for an unknown kind, status or field."""
        status = WorkOrderStatus(values.pop("status", WorkOrderStatus.OPEN))
        if status not in (WorkOrderStatus.OPEN, WorkOrderStatus.DRAFT):
            raise ValueError(f"a work order starts open or as a draft, not {status.value}")
        texts = {name: mask_personal_data(str(values.pop(name, ""))) for name in _MASKED_TEXTS}
        name = mask_personal_data(str(values.pop("name", "")))[:100]
        phone = str(values.pop("phone", "")).strip()[:32]
        short = {"department", "appeal_type", "category", "suggested_department"}
        if unknown := set(values) - short:
            raise ValueError(f"unknown work-order fields: {sorted(unknown)}")
        labels = {k: mask_personal_data(str(v))[:200] for k, v in values.items()}
        return cls(
            kind=WorkOrderKind(kind), session=session_key(sender_id), idempotency_key=key, status=status,
            name=name, phone=phone, **texts, **labels,
        )

    def record(self) -> dict[str, Any]:
        """The request as a JSON object (for the outbox)."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> WorkOrderRequest:
        """The inverse of ``record``; KeyError / TypeError / ValueError for a corrupt record."""
        values = dict(record)
        values["kind"] = WorkOrderKind(values["kind"])
        values["status"] = WorkOrderStatus(values["status"])
        return cls(**values)


@dataclass(frozen=True)
class WorkOrder:
    """One stored work order; every text field except ``phone`` is already masked."""

    number: str
    kind: WorkOrderKind
    status: WorkOrderStatus
    created_at: datetime
    session: str
    summary: str
    transcript: str
    what: str = ""
    where: str = ""
    name: str = ""
    phone: str = ""
    department: str = ""
    appeal_type: str = ""
    category: str = ""
    suggested_department: str = ""
    idempotency_key: str | None = None


_ORDER_FIELDS = [f.name for f in fields(WorkOrder)]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _work_order(row: Any) -> WorkOrder:
    values = {name: getattr(row, name) for name in _ORDER_FIELDS}
    values.update(kind=WorkOrderKind(row.kind), status=WorkOrderStatus(row.status), created_at=_aware(row.created_at))
    return WorkOrder(**values)


class WorkOrderStore:
    """Work orders in SQLite or PostgreSQL. Constructing it touches no database; the schema is checked on use."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))
        self._ready = False

    @classmethod
    def open(cls, url: str) -> WorkOrderStore:
        """Open the store; a database that is down is reported (orders wait in the outbox), an outdated one refused."""
        store = cls(open_engine(url))
        try:
            store.ensure()
        except OperationalError as error:
            log.warning("work-order database unavailable at start (%s)", type(error).__name__)
        return store

    def ensure(self) -> None:
        """Check the schema once (SchemaOutdated for an older database); an empty one is created."""
        if not self._ready:
            MONITOR.ensure(self.engine)
            self._ready = True

    def close(self) -> None:
        self.engine.dispose()

    def create(self, request: WorkOrderRequest, *, late: bool = False) -> WorkOrder:
        """Store a new work order, or return the one stored earlier under the same idempotency key.

        ``late``: the citizen was not told the number (it waited in the outbox); the next reply tells them.
        Raises WorkOrderUnavailable when the database cannot take it."""
        try:
            self.ensure()
            for _ in range(3):
                try:
                    return self._insert(request, late)
                except IntegrityError:
                    earlier = self._by_key(request.idempotency_key)
                    if earlier is not None:
                        return self._late(earlier) if late else earlier
                    log.warning("work-order number collision; retrying")
            return self._insert(request, late)
        except (SQLAlchemyError, KnowledgeError) as error:
            raise WorkOrderUnavailable(error) from None

    def _insert(self, request: WorkOrderRequest, late: bool) -> WorkOrder:
        created = self.clock()
        values = {**request.record(), "kind": request.kind.value, "status": request.status.value}
        with self.engine.begin() as conn:
            day = f"{created.astimezone(BEIJING):%Y%m%d}"
            number = f"{NUMBER_PREFIX}{day}-{self._next_number(conn, day):04d}"
            conn.execute(
                insert(work_orders).values(
                    number=number, created_at=created, updated_at=created, notice_pending=late, **values
                )
            )
        # built from what was written: nothing after the commit can turn a stored order into a failure
        return WorkOrder(number=number, created_at=created, **asdict(request))

    def _next_number(self, conn: Connection, day: str) -> int:
        """Raise today's counter and return it; the row stays locked until the order's transaction ends."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        counter = work_order_counters.c
        statement = (
            dialect.insert(work_order_counters)
            .values(day=day, last=1)
            .on_conflict_do_update(index_elements=[counter.day], set_={"last": counter.last + 1})
            .returning(counter.last)
        )
        return int(conn.execute(statement).scalar_one())

    def _by_key(self, key: str | None) -> WorkOrder | None:
        if not key:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(work_orders).where(work_orders.c.idempotency_key == key)).first()
        return _work_order(row) if row else None

    def _late(self, order: WorkOrder) -> WorkOrder:
        with self.engine.begin() as conn:
            conn.execute(update(work_orders).where(work_orders.c.number == order.number).values(notice_pending=True))
        return order

    def get(self, number: str) -> WorkOrder:
        """The work order with this number, or WorkOrderNotFound."""
        self.ensure()
        with self.engine.connect() as conn:
            row = conn.execute(select(work_orders).where(work_orders.c.number == number)).first()
        if row is None:
            raise WorkOrderNotFound(number)
        return _work_order(row)

    def list(
        self,
        limit: int = 50,
        status: WorkOrderStatus | None = None,
        *,
        kind: WorkOrderKind | None = None,
        category: str = "",
        department: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> builtins.list[WorkOrder]:
        """The newest work orders first, filtered: status, kind, 事项分类 (a level and everything under it),
        department (the assigned one or the suggested 建议承办单位), created in [since, until)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.ensure()
        c = work_orders.c
        query = select(work_orders).order_by(c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(c.status == WorkOrderStatus(status).value)
        if kind is not None:
            query = query.where(c.kind == WorkOrderKind(kind).value)
        if category:
            # "城乡建设" takes "城乡建设/住房保障/…" too; LIKE's wildcards in the value are escaped
            escaped = category.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(or_(c.category == category, c.category.like(f"{escaped}/%", escape="\\")))
        if department:
            query = query.where(or_(c.department == department, c.suggested_department == department))
        if since is not None:
            query = query.where(c.created_at >= since)
        if until is not None:
            query = query.where(c.created_at < until)
        with self.engine.connect() as conn:
            return [_work_order(row) for row in conn.execute(query)]

    def transition(self, number: str, wanted: WorkOrderStatus | str) -> WorkOrder:
        """Move a work order to another status, if the lifecycle allows it (InvalidTransition otherwise)."""
        order = self.get(number)
        wanted = WorkOrderStatus(wanted)
        if wanted not in TRANSITIONS[order.status]:
            raise InvalidTransition(number, order.status, wanted)
        changed = (
            update(work_orders)
            .where(work_orders.c.number == number, work_orders.c.status == order.status.value)
            .values(status=wanted.value, updated_at=self.clock())
        )
        with self.engine.begin() as conn:
            if not conn.execute(changed).rowcount:
                raise InvalidTransition(number, self.get(number).status, wanted)
        return replace(order, status=wanted)

    def pending_notices(self) -> dict[str, builtins.list[str]]:
        """Session → numbers of orders that landed late and whose citizen has not been told yet."""
        self.ensure()
        query = select(work_orders.c.session, work_orders.c.number).where(work_orders.c.notice_pending.is_(True))
        found: dict[str, builtins.list[str]] = {}
        with self.engine.connect() as conn:
            for session, number in conn.execute(query.order_by(work_orders.c.id)):
                found.setdefault(session, []).append(number)
        return found

    def claim_notice(self, number: str) -> bool:
        """Take the duty of telling the citizen a late number; False when another process already did."""
        claim = (
            update(work_orders)
            .where(work_orders.c.number == number, work_orders.c.notice_pending.is_(True))
            .values(notice_pending=False)
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(claim).rowcount)
