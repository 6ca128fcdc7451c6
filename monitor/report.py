"""The opinion report for a period: one object built from the conversation log, work orders and imported messages.

Sections, in the order staff read them: 概况 (volumes by channel, answer rate) → 热点问题 → 新增与上升话题 →
未解答问题与知识缺口 → 风险提示 → 答复质量 → 处置建议. Every number is computed from the stored records. Imported
messages are not embedded again (they carry the vector they got on import); only the period's unanswered log
questions are, for the knowledge gaps, because the log keeps no vectors. ``monitor/report_formats.py`` writes
it as HTML, PDF, XLSX or JSON; ``monitor/charts.py`` draws it.

Periods are China-local calendar days, ``first`` to ``last`` inclusive: imported messages carry the platform's
naive local time, log turns and work orders an aware UTC time, converted before they are counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .bursts import Burst, BurstSettings, RisingTopic, detect_bursts, rising_topics
from .classify import Category, Classifier
from .gaps import KnowledgeGaps, find_gaps
from .hotspots import HotIssue, find_hot_issues
from .messages import Message, MessageStore
from .replies import ReplyAssessment, ReplyQualitySettings, assess_replies, department_summary, weakest_replies
from .report_actions import Action, derive_actions
from .report_sources import CHINA, LogRow, OrderRow, Period, ReportSources, load_history, log_rows, order_rows
from .risks import RiskSignals, categorise, find_risks

CHANNELS = {"web": "网页", "wechat": "微信", "telegram": "Telegram", "hotline": "热线", "cli": "命令行"}
QUESTION_KINDS = frozenset({"answer", "no_answer", "clarify"})
Progress = Callable[[str], None]
STAGES = (
    "读取留言、对话与工单",
    "事项分类",
    "热点问题",
    "新增与上升话题",
    "未解答问题与知识缺口",
    "风险提示",
    "答复质量",
    "处置建议",
)


@dataclass(frozen=True)
class DayVolume:
    """One day's volumes: imported messages, questions asked in the chat channels, work orders, answered."""

    day: date
    messages: int = 0
    questions: int = 0
    answered: int = 0
    unanswered: int = 0
    work_orders: int = 0

    @property
    def answer_rate(self) -> float | None:
        judged = self.answered + self.unanswered
        return self.answered / judged if judged else None


@dataclass(frozen=True)
class Overview:
    """概况: volumes by channel and by day, the assistant's answer rate, categories."""

    messages: int
    turns: int
    questions: int
    answered: int
    unanswered: int
    not_useful: int
    work_orders: int
    channels: tuple[tuple[str, int], ...]  # (channel label, records), largest first
    answer_by_channel: tuple[tuple[str, int, int], ...]  # (channel, answered, unanswered)
    work_order_kinds: tuple[tuple[str, int], ...]
    categories: tuple[tuple[str, int], ...]  # 一级分类 of messages and work orders, largest first
    days: tuple[DayVolume, ...]

    @property
    def answer_rate(self) -> float | None:
        """Answered policy questions over those answered or not (clarifications are neither)."""
        judged = self.answered + self.unanswered
        return self.answered / judged if judged else None

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "turns": self.turns,
            "questions": self.questions,
            "answered": self.answered,
            "unanswered": self.unanswered,
            "not_useful": self.not_useful,
            "work_orders": self.work_orders,
            "answer_rate": None if self.answer_rate is None else round(self.answer_rate, 4),
            "channels": [{"channel": c, "count": n} for c, n in self.channels],
            "answer_by_channel": [{"channel": c, "answered": a, "unanswered": u} for c, a, u in self.answer_by_channel],
            "work_order_kinds": [{"kind": k, "count": n} for k, n in self.work_order_kinds],
            "categories": [{"category": c, "count": n} for c, n in self.categories],
            "days": [
                {
                    "day": d.day.isoformat(),
                    "messages": d.messages,
                    "questions": d.questions,
                    "answered": d.answered,
                    "unanswered": d.unanswered,
                    "work_orders": d.work_orders,
                }
                for d in self.days
            ],
        }


@dataclass(frozen=True)
class ReplyQuality:
    """答复质量 over the period's messages that carry a department's reply."""

    messages: int
    replies: int
    target_days: int
    mean_working_days: float | None
    within_target: float | None  # share of replies within the target in working days
    mean_relevance: float | None
    mean_completeness: float | None
    mean_score: float | None
    departments: tuple[dict[str, Any], ...]
    weakest: tuple[ReplyAssessment, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "replies": self.replies,
            "target_days": self.target_days,
            "mean_working_days": self.mean_working_days,
            "within_target": self.within_target,
            "mean_relevance": self.mean_relevance,
            "mean_completeness": self.mean_completeness,
            "mean_score": self.mean_score,
            "departments": [
                {k: (None if isinstance(v, float) and v != v else v) for k, v in d.items()} for d in self.departments
            ],
            "weakest": [
                {
                    "message_id": a.message_id,
                    "title": a.title,
                    "department": a.department,
                    "asked_at": a.asked_at.isoformat(),
                    "replied_at": a.replied_at.isoformat() if a.replied_at else None,
                    "working_days": a.working_days,
                    "timeliness": a.timeliness,
                    "relevance": a.relevance,
                    "completeness": a.completeness,
                    "missing_parts": list(a.missing_parts),
                    "score": a.score,
                    "gist": a.gist,
                }
                for a in self.weakest
            ],
        }


@dataclass(frozen=True)
class IssueRouting:
    """Where a hot issue should go: its 事项分类 and the department the table names for it."""

    issue_id: str
    category: str
    department: str


@dataclass(frozen=True)
class Report:
    """The whole report for one period."""

    period: Period
    generated_at: datetime
    overview: Overview
    hot_issues: tuple[HotIssue, ...]
    routing: tuple[IssueRouting, ...]
    bursts: tuple[Burst, ...]
    rising: tuple[RisingTopic, ...]
    gaps: KnowledgeGaps | None  # None when the log (or the model that clusters its questions) is missing
    risks: RiskSignals
    replies: ReplyQuality
    actions: tuple[Action, ...]
    notes: tuple[str, ...] = ()  # what a reader must know: a source missing, a classifier without data

    def route_of(self, issue_id: str) -> IssueRouting | None:
        return next((r for r in self.routing if r.issue_id == issue_id), None)

    def to_json(self) -> dict[str, Any]:
        """The report as one JSON object; ``hot_issues`` entries carry the challenge's fields."""
        routes = {r.issue_id: r for r in self.routing}
        hot = []
        for issue in self.hot_issues:
            entry = issue.to_json()
            if (route := routes.get(issue.issue_id)) is not None:
                entry.update(category=route.category, department=route.department)
            hot.append(entry)
        return {
            "period": {"from": self.period.first.isoformat(), "to": self.period.last.isoformat()},
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "overview": self.overview.to_json(),
            "hot_issues": hot,
            "bursts": [_burst_json(b) for b in self.bursts],
            "rising_topics": [_rising_json(r) for r in self.rising],
            "knowledge_gaps": self.gaps.to_json() if self.gaps is not None else None,
            "risks": self.risks.to_json(),
            "reply_quality": self.replies.to_json(),
            "actions": [a.to_json() for a in self.actions],
            "notes": list(self.notes),
        }


def _burst_json(b: Burst) -> dict[str, Any]:
    return {
        "topic": b.topic,
        "detected_on": b.detected_on.isoformat(),
        "last_day": b.last_day.isoformat(),
        "count": b.count,
        "expected": b.expected,
        "z": b.z,
        "new": b.new,
        "message_ids": list(b.message_ids),
    }


def _rising_json(r: RisingTopic) -> dict[str, Any]:
    return {
        "topic": r.topic,
        "count": r.count,
        "previous_mean": r.previous_mean,
        "z": r.z,
        "new": r.new,
        "message_ids": list(r.message_ids),
    }


def _overview(
    period: Period, messages: Sequence[Message], log: list[LogRow], orders: list[OrderRow], categories: Counter[str]
) -> Overview:
    channels: Counter[str] = Counter()
    for m in messages:
        channels[f"问政留言（{m.source}）"] += 1
    answered: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
    questions = 0
    for row in log:
        label = CHANNELS.get(row.channel, row.channel)
        if row.kind in QUESTION_KINDS:
            questions += 1
            channels[f"对话（{label}）"] += 1
        answered[label] += row.kind == "answer"
        unanswered[label] += row.kind == "no_answer"
    if orders:
        channels["工单"] += len(orders)
    by_day: dict[date, Counter[str]] = defaultdict(Counter)
    for m in messages:
        by_day[m.at.date()]["messages"] += 1
    for row in log:
        by_day[row.day]["questions"] += row.kind in QUESTION_KINDS
        by_day[row.day]["answered"] += row.kind == "answer"
        by_day[row.day]["unanswered"] += row.kind == "no_answer"
    for order in orders:
        by_day[order.day]["work_orders"] += 1
    empty: Counter[str] = Counter()
    days = tuple(DayVolume(d, **by_day.get(d, empty)) for d in period.each_day())
    labels = sorted(set(answered) | set(unanswered), key=lambda c: -(answered[c] + unanswered[c]))
    return Overview(
        messages=len(messages),
        turns=len(log),
        questions=questions,
        answered=sum(answered.values()),
        unanswered=sum(unanswered.values()),
        not_useful=sum(1 for r in log if r.feedback == "negative"),
        work_orders=len(orders),
        channels=tuple(channels.most_common()),
        answer_by_channel=tuple((c, answered[c], unanswered[c]) for c in labels if answered[c] + unanswered[c]),
        work_order_kinds=tuple(Counter(o.kind for o in orders).most_common()),
        categories=tuple(categories.most_common()),
        days=days,
    )


def _categories(
    classifier: Classifier | None, messages: Sequence[Message], vectors: Any, orders: list[OrderRow]
) -> tuple[list[str], Counter[str]]:
    """一级分类 of every message and of every work order (its own, else the model's); nothing is embedded."""
    model = classifier.model if classifier is not None else None
    labels = [category.level1 for category, _ in categorise(messages, vectors, classifier)] if messages else []
    counts = Counter(label or "未分类" for label in labels)
    unlabelled = [o.text for o in orders if not o.category]
    guessed = iter(model.predict_many(unlabelled) if model is not None and unlabelled else [""] * len(unlabelled))
    for order in orders:
        counts[(order.category.split("/")[0] if order.category else next(guessed)) or "未分类"] += 1
    return labels, counts


def _routing(
    classifier: Classifier | None, issues: Sequence[HotIssue], messages: Sequence[Message], labels: Sequence[str]
) -> list[IssueRouting]:
    """Each hot issue's category (the most common of its messages') and the department the table gives it."""
    if classifier is None:
        return []
    label_of = {m.external_id: label for m, label in zip(messages, labels, strict=True)}
    routes = []
    for issue in issues:
        counts = Counter(label_of.get(row.message_id, "") for row in issue.messages)
        level1 = counts.most_common(1)[0][0] if counts else ""
        text = " ".join(row.title for row in issue.messages[:20])
        level2 = classifier.taxonomy.refine(level1, text)[0] if classifier.taxonomy and level1 else ""
        department = classifier.departments.department_for(Category(level1, level2))
        routes.append(IssueRouting(issue.issue_id, "/".join(x for x in (level1, level2) if x), department))
    return routes


def _reply_quality(
    store: MessageStore, messages: Sequence[Message], vectors: Any, settings: ReplyQualitySettings
) -> ReplyQuality:
    replied = [m.id for m in messages if m.reply]
    assessments = assess_replies(messages, vectors, store.reply_vectors(replied) if replied else {}, settings)
    n = len(assessments)

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 3) if values else None

    days = [a.working_days for a in assessments if a.working_days is not None]
    return ReplyQuality(
        messages=len(messages),
        replies=n,
        target_days=settings.target_days,
        mean_working_days=round(sum(days) / len(days), 1) if days else None,
        within_target=mean([float(d <= settings.target_days) for d in days]),
        mean_relevance=mean([a.relevance for a in assessments]),
        mean_completeness=mean([a.completeness for a in assessments]),
        mean_score=mean([a.score for a in assessments]),
        departments=tuple(department_summary(assessments)),
        weakest=tuple(weakest_replies(assessments, 10)),
    )


def build_report(
    sources: ReportSources, period: Period, progress: Progress | None = None, top: int = 20, now: datetime | None = None
) -> Report:
    """Build the report of ``period`` from whatever sources are given; ``progress`` hears each stage's name."""
    say = progress or (lambda _stage: None)
    notes: list[str] = list(sources.notes)
    burst_settings = BurstSettings()
    say("读取留言、对话与工单")
    messages: list[Message] = []
    history: list[Message] = []
    vectors: Any = None
    if sources.messages is not None:
        messages, vectors = sources.messages.load(period.start, period.end)
        lookback = max(
            timedelta(days=burst_settings.baseline_days + burst_settings.window_days + 1),
            burst_settings.previous * (period.end - period.start),
        )
        history = load_history(sources.messages, period.start - lookback, period.start)
    else:
        notes.append("未接入问政留言库：热点问题、上升话题与答复质量为空。")
    log = log_rows(sources.log, period) if sources.log is not None else []
    if sources.log is None:
        notes.append("未接入对话日志：解答率与知识缺口为空。")
    orders = order_rows(sources.work_orders, period) if sources.work_orders is not None else []
    say("事项分类")
    if sources.classifier is None or sources.classifier.model is None:
        notes.append("事项分类未启用（缺少分类训练数据）：类别统计与转办建议从简。")
    labels, categories = _categories(sources.classifier, messages, vectors, orders)
    overview = _overview(period, messages, log, orders, categories)
    say("热点问题")
    issues = find_hot_issues(messages, vectors, end=period.end, top=top) if messages else []
    routing = _routing(sources.classifier, issues, messages, labels)
    say("新增与上升话题")
    everything = history + messages
    bursts = detect_bursts(everything, period.start, period.end, burst_settings) if everything else []
    if history:
        rising = rising_topics(everything, period.start, period.end, burst_settings)
    else:  # with nothing to compare to, every topic would count as new
        rising = []
        if messages:
            notes.append("统计期之前没有留言可比较：不列上升话题，突增只在数据覆盖满 30 天后判断。")
    say("未解答问题与知识缺口")
    gaps = _gaps(sources, period, notes)
    say("风险提示")
    risks = find_risks(messages, vectors, period.start, period.end, issues, sources.classifier)
    say("答复质量")
    quality = (
        _reply_quality(sources.messages, messages, vectors, ReplyQualitySettings())
        if sources.messages is not None
        else ReplyQuality(0, 0, 15, None, None, None, None, None, (), ())
    )
    say("处置建议")
    actions = derive_actions(issues, routing, bursts, rising, gaps, risks, quality)
    return Report(
        period=period,
        generated_at=(now or datetime.now(CHINA)).replace(microsecond=0),
        overview=overview,
        hot_issues=tuple(issues),
        routing=tuple(routing),
        bursts=tuple(sorted(bursts, key=lambda b: -b.z)[:30]),
        rising=tuple(sorted(rising, key=lambda r: -r.z)[:30]),
        gaps=gaps,
        risks=risks,
        replies=quality,
        actions=tuple(actions),
        notes=tuple(notes),
    )


def _gaps(sources: ReportSources, period: Period, notes: list[str]) -> KnowledgeGaps | None:
    if sources.log is None:
        return None
    if sources.embedder is None:
        notes.append("未加载向量模型：知识缺口未聚类。")
        return None
    if sources.knowledge is None:
        notes.append("未加载知识库索引：知识缺口不列最接近的现有文件。")
    return find_gaps(sources.log, period.start, period.end, sources.embedder, sources.knowledge)
