"""Where a report's records come from, and the period it covers.

A period is China-local calendar days, ``first`` to ``last`` inclusive: imported messages carry the platform's
naive local time, log turns and work orders an aware UTC time, converted before they are counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from knowledge.embedding import Embedder, load_embedder
from knowledge.errors import KnowledgeError
from knowledge.reader import KnowledgeReader

from .classify import Classifier, ClassifySettings
from .log import ConversationLog
from .messages import Message, MessageStore, messages_table
from .schema import turns, work_orders
from .workorders import WorkOrderStore

if TYPE_CHECKING:
    from knowledge.document import Passage
    from knowledge.settings import Settings

    from .settings import MonitorSettings

CHINA = ZoneInfo("Asia/Shanghai")
MAX_DAYS = 400  # a year and a bit: longer periods are split by the caller (a report per year)


class BadPeriod(KnowledgeError):
    """A period that cannot be reported: unreadable dates, ``from`` after ``to``, or too long."""

    code = "bad_period"
    status = 400


@dataclass(frozen=True)
class Period:
    """China-local days ``first`` .. ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise BadPeriod(f"开始日期 {self.first} 晚于结束日期 {self.last}。")
        if self.days > MAX_DAYS:
            raise BadPeriod(f"统计期最长 {MAX_DAYS} 天，这里是 {self.days} 天；请分段生成报告。")

    @classmethod
    def parse(cls, first: str, last: str) -> Period:
        """From two YYYY-MM-DD strings; BadPeriod names the bad one."""
        return cls(_day(first, "开始日期"), _day(last, "结束日期"))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """Naive local midnight of the first day (imported messages' clock)."""
        return datetime.combine(self.first, datetime.min.time())

    @property
    def end(self) -> datetime:
        """Naive local midnight after the last day (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time())

    def utc(self, moment: datetime) -> datetime:
        """A naive local bound as an aware UTC time (the log's and work orders' clock)."""
        return moment.replace(tzinfo=CHINA).astimezone(UTC)

    @property
    def label(self) -> str:
        return f"{self.first:%Y年%m月%d日} 至 {self.last:%Y年%m月%d日}"

    @property
    def slug(self) -> str:
        return f"{self.first:%Y%m%d}-{self.last:%Y%m%d}"

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=k) for k in range(self.days)]


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise BadPeriod(f"{what}应为 YYYY-MM-DD，收到的不是有效日期。") from None


@dataclass
class ReportSources:
    """Where the records are; any of them may be missing (the report says so in its notes)."""

    messages: MessageStore | None = None
    log: Engine | None = None  # the conversation log's database
    work_orders: Engine | None = None  # the store's database
    classifier: Classifier | None = None  # TF-IDF only: imported messages are never embedded again
    knowledge: LazyReader | KnowledgeReader | None = None  # the documents closest to a knowledge gap
    embedder: Embedder | None = None  # for the gaps' log questions, which carry no stored vector
    notes: list[str] = field(default_factory=list)  # what could not be opened, for the report's notes
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        """Close what ``open_sources`` opened, last first."""
        while self._closers:
            self._closers.pop()()


def report_classifier(settings: ClassifySettings) -> Classifier:
    """The hotline's classifier on TF-IDF features: a hybrid one would embed every message again per report."""
    return Classifier.from_settings(settings.model_copy(update={"features": "tfidf"}))


def open_sources(
    settings: MonitorSettings,
    messages_url: str | None = None,
    log_url: str | None = None,
    embedder: Embedder | None = None,
) -> ReportSources:
    """Open every source the settings name; what cannot be opened is left out and said in ``notes``."""
    sources = ReportSources()
    store = MessageStore.open(messages_url or settings.store.url)
    sources.messages = store
    sources._closers.append(store.close)
    conversation_log = ConversationLog.open(log_url or settings.log_url)
    conversation_log.ensure()
    sources.log = conversation_log.engine
    sources._closers.append(conversation_log.close)
    orders = WorkOrderStore.open(settings.store.url)
    sources.work_orders = orders.engine
    sources._closers.append(orders.close)
    sources.classifier = report_classifier(settings.classify)
    sources.embedder = embedder or load_embedder(settings.index.model)  # the model itself loads on first use
    lazy = LazyReader(settings, sources.embedder)
    sources.knowledge = lazy
    sources._closers.append(lazy.close)
    return sources


class LazyReader:
    """The knowledge base's reader, loaded on the first search: a period without knowledge gaps never loads it."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings, self.embedder = settings, embedder
        self.reader: KnowledgeReader | None = None
        self.failed: str | None = None

    def _open(self) -> KnowledgeReader | None:
        if self.reader is None and self.failed is None:
            try:
                self.reader = KnowledgeReader.open(self.settings, self.embedder)
            except KnowledgeError as error:  # an index for another model: gaps are listed without documents
                self.failed = error.message
        return self.reader

    def search(self, question: str, top_k: int = 5) -> list[Passage]:
        reader = self._open()
        return reader.search(question, top_k) if reader is not None else []

    def refresh(self) -> None:
        """Follow a newly published index, once the reader is loaded."""
        if self.reader is not None:
            self.reader.refresh()

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


@dataclass(frozen=True)
class LogRow:
    day: date
    channel: str
    kind: str
    question: str
    feedback: str | None


def log_rows(engine: Engine, period: Period) -> list[LogRow]:
    t = turns.c
    query = select(t.at, t.channel, t.reply_kind, t.answered, t.question, t.feedback).where(
        t.at >= period.utc(period.start), t.at < period.utc(period.end)
    )
    rows = []
    with engine.connect() as conn:
        for at, channel, kind, answered, question, feedback in conn.execute(query):
            aware = at if at.tzinfo else at.replace(tzinfo=UTC)
            if not kind:  # turns logged before reply kinds existed: the answered flag is all there is
                kind = "answer" if answered else ("no_answer" if question else "")
            rows.append(LogRow(aware.astimezone(CHINA).date(), channel, kind, question, feedback))
    return rows


@dataclass(frozen=True)
class OrderRow:
    day: date
    kind: str
    category: str
    text: str


def order_rows(engine: Engine, period: Period) -> list[OrderRow]:
    t = work_orders.c
    query = select(t.created_at, t.kind, t.category, t.summary, t.what, t.status).where(
        t.created_at >= period.utc(period.start), t.created_at < period.utc(period.end), t.status != "draft"
    )
    rows = []
    with engine.connect() as conn:
        for at, kind, category, summary, what, _ in conn.execute(query):
            aware = at if at.tzinfo else at.replace(tzinfo=UTC)
            rows.append(OrderRow(aware.astimezone(CHINA).date(), kind, category or "", what or summary or ""))
    return rows


def load_history(store: MessageStore, start: datetime, end: datetime) -> list[Message]:
    """Messages in [start, end) without their vectors: the earlier weeks bursts and rising topics compare to."""
    t = messages_table.c
    columns = [t.source, t.external_id, t.user, t.at, t.title, t.detail, t.likes, t.dislikes]
    query = select(*columns).where(t.at >= start, t.at < end).order_by(t.at, t.id)
    with store.engine.connect() as conn:
        return [Message(*row) for row in conn.execute(query)]


def data_version(sources: ReportSources) -> tuple[Any, ...]:
    """Counts and newest times of every source: a cached report is reused while this stays the same."""
    m, t, w = messages_table.c, turns.c, work_orders.c
    queries = (
        (sources.messages.engine if sources.messages else None, select(func.count(), func.max(m.imported_at))),
        (sources.log, select(func.count(), func.max(t.at), func.count(t.feedback))),
        (sources.work_orders, select(func.count(), func.max(w.created_at), func.max(w.updated_at))),
    )
    version: list[Any] = []
    for engine, query in queries:
        if engine is None:
            version.append(None)
            continue
        with engine.connect() as conn:
            version.append(tuple(conn.execute(query).one()))
    return tuple(version)
