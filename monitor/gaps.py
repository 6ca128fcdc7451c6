"""Knowledge gaps: the questions the assistant could not answer, clustered into a to-do list for knowledge managers.

Which turns (monitor/log.py): a citizen's question (not a button press) whose reply kind is ``no_answer``; an
``answer`` whose confidence is below ``low_confidence`` (0.55: the answer threshold is 0.4, so these passed
it narrowly); or one that got 没用 — the turn's feedback ``negative``, or the citizen's next turn is the
``/feedback_negative`` button. Period bounds are China local time (the report's dates); the log keeps UTC.

Clustering. The questions of the period and of the period of the same length before it are embedded (the
log keeps no vectors; only these few questions are), centred on their mean blended with a fixed set of
everyday questions (so five questions centre as stably as five hundred: e5-style models put any two short
questions near cosine 0.85, centred unrelated ones fall near 0 and paraphrases above 0.25), then grouped by
centroid: a question joins the most similar cluster whose centroid it reaches with cosine ``similarity``
(0.35), else starts one; a second pass reassigns every question to its nearest final centroid. Memory is
questions × clusters, never questions × questions.

Each cluster: size in the period, size in the previous period and the trend (新增 when it had none before,
上升 / 下降 when it changed by half or more, else 持平), why its questions count (no answer, low confidence,
没用), channels, up to ``examples`` distinct questions nearest its centroid, and the knowledge base's closest
documents for its most central question (the reader's hybrid search), so a manager sees whether to write a
new document or improve the one that is there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sqlalchemy import Engine, and_, or_, select

from .log import ReplyKind
from .schema import turns

if TYPE_CHECKING:
    from knowledge.document import Passage
    from knowledge.embedding import Embedder

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
NEGATIVE_CHOICE = "/feedback_negative"
REASONS = {"no_answer": "未能回答", "low_confidence": "低置信度回答", "unhelpful": "用户反馈没用"}
# everyday questions of every kind: part of the mean the questions are centred on (see the module docstring)
BACKGROUND = (
    "怎么申请低保",
    "养老保险怎么交",
    "孩子上学需要什么材料",
    "公积金怎么提取",
    "医保报销比例是多少",
    "营业执照怎么办理",
    "户口迁移怎么办",
    "失业金怎么领",
    "创业贷款有哪些条件",
    "房产证在哪里办",
    "耕地补贴什么时候发",
    "高龄补贴怎么领",
    "异地就医怎么备案",
    "公租房怎么申请",
    "社保卡丢了怎么补办",
    "新生儿医保怎么参保",
    "残疾人补贴标准",
    "驾驶证怎么换证",
    "不动产登记要带什么",
    "12345热线几点上班",
    "政府信息公开怎么申请",
    "老旧小区改造有哪些内容",
    "就业补贴怎么申请",
    "返乡创业有什么扶持",
)


class Searcher(Protocol):
    """What gaps need of the knowledge base: knowledge.reader.KnowledgeReader fits."""

    def search(self, question: str, top_k: int = 5) -> list[Passage]: ...


@dataclass(frozen=True)
class GapSettings:
    """Which turns count and how they are grouped (see the module docstring)."""

    low_confidence: float = 0.55
    similarity: float = 0.35
    examples: int = 5
    documents: int = 3
    min_size: int = 1
    max_questions: int = 20_000

    def __post_init__(self) -> None:
        if not 0 <= self.low_confidence <= 1 or not -1 < self.similarity < 1:
            raise ValueError("low_confidence must lie in [0, 1] and similarity in (-1, 1)")
        if self.examples < 1 or self.documents < 0 or self.min_size < 1 or self.max_questions < 1:
            raise ValueError("examples, min_size and max_questions must be at least 1, documents at least 0")


@dataclass(frozen=True)
class GapQuestion:
    """One question the assistant did not answer well, as logged (already masked)."""

    turn_id: str
    at: datetime  # UTC
    channel: str
    question: str
    reason: str  # no_answer | low_confidence | unhelpful
    confidence: float | None = None


@dataclass(frozen=True)
class NearDocument:
    """An existing document close to a gap cluster's questions."""

    doc_id: str
    title: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "title": self.title, "score": round(self.score, 4)}


@dataclass(frozen=True)
class GapCluster:
    """Questions about one thing the knowledge base does not answer well."""

    gap_id: str
    question: str  # the most central question of the period
    size: int
    previous: int
    reasons: dict[str, int]
    channels: dict[str, int]
    examples: tuple[str, ...]
    turn_ids: tuple[str, ...]
    documents: tuple[NearDocument, ...]

    @property
    def trend(self) -> str:
        """新增, 上升, 下降 or 持平 against the previous period."""
        if self.previous == 0:
            return "新增"
        if self.size >= 1.5 * self.previous:
            return "上升"
        return "下降" if self.size <= 0.5 * self.previous else "持平"

    def to_json(self) -> dict[str, Any]:
        return {
            "gap_id": self.gap_id,
            "question": self.question,
            "size": self.size,
            "previous": self.previous,
            "trend": self.trend,
            "reasons": {REASONS[k]: v for k, v in self.reasons.items()},
            "channels": dict(self.channels),
            "examples": list(self.examples),
            "turn_ids": list(self.turn_ids),
            "documents": [d.to_json() for d in self.documents],
        }


@dataclass(frozen=True)
class KnowledgeGaps:
    """The report's 未解答问题与知识缺口: counts and the clusters, largest first."""

    start: datetime
    end: datetime
    questions: int
    previous_questions: int
    reasons: dict[str, int]
    clusters: tuple[GapCluster, ...]

    def to_json(self) -> dict[str, Any]:
        """The report's JSON ``knowledge_gaps`` object."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "questions": self.questions,
            "previous_questions": self.previous_questions,
            "reasons": {REASONS[k]: v for k, v in self.reasons.items()},
            "clusters": [c.to_json() for c in self.clusters],
        }


def as_utc(moment: datetime) -> datetime:
    """A report bound in UTC: naive datetimes are China local time."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=CHINA)).astimezone(UTC)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)  # SQLite returns naive UTC


def gap_questions(
    engine: Engine, start: datetime, end: datetime, settings: GapSettings = GapSettings()
) -> list[GapQuestion]:
    """The logged questions with start <= at < end that were not answered, answered weakly, or got 没用."""
    lo, hi = as_utc(start), as_utc(end)
    t = turns.c
    weak = or_(
        t.reply_kind == ReplyKind.NO_ANSWER.value,
        and_(t.reply_kind == ReplyKind.ANSWER.value, t.confidence < settings.low_confidence),
        t.feedback == "negative",
    )
    columns = (t.id, t.at, t.channel, t.question, t.reply_kind, t.confidence, t.feedback)
    in_period = and_(t.at >= lo, t.at < hi, t.question != "")
    with engine.connect() as conn:
        rows = list(conn.execute(select(*columns).where(in_period, weak).order_by(t.at, t.id)))
        # 没用 pressed as a button: the citizen's previous question in the same conversation is the one judged
        presses = list(
            conn.execute(
                select(t.user_hash, t.at).where(
                    t.at >= lo, t.at < hi + timedelta(hours=1), t.choice.like(f"{NEGATIVE_CHOICE}%")
                )
            )
        )
        judged: set[str] = set()
        for user_hash, pressed_at in presses:
            before = select(t.id).where(
                t.user_hash == user_hash, t.at <= pressed_at, t.question != "", t.at >= lo, t.at < hi
            )
            asked = conn.execute(before.order_by(t.at.desc(), t.id.desc()).limit(1)).scalar_one_or_none()
            judged.update([asked] if asked else [])
        known = {row.id for row in rows}
        if judged - known:
            rows += list(conn.execute(select(*columns).where(t.id.in_(sorted(judged - known)))))
    found: list[GapQuestion] = []
    for row in sorted(rows, key=lambda r: (_utc(r.at), r.id))[: settings.max_questions]:
        if row.reply_kind == ReplyKind.NO_ANSWER.value:
            reason = "no_answer"
        elif row.feedback == "negative" or row.id in judged:
            reason = "unhelpful"
        else:
            reason = "low_confidence"
        found.append(GapQuestion(row.id, _utc(row.at), row.channel, row.question, reason, row.confidence))
    return found


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def centred_questions(vectors: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Question vectors minus the mean of them and the background questions, renormalised."""
    mean = (vectors.sum(axis=0) + background.sum(axis=0)) / (len(vectors) + len(background))
    return _normalise(vectors - mean)


def cluster_vectors(vectors: np.ndarray, similarity: float) -> np.ndarray:
    """A cluster label per (centred, normalised) row: nearest centroid above ``similarity``, two passes."""
    labels = np.zeros(len(vectors), dtype=np.int64)
    if not len(vectors):
        return labels
    sums = np.zeros((min(len(vectors), 64), vectors.shape[1]), dtype=np.float64)  # grows as clusters appear
    units = np.zeros_like(sums)  # the sums normalised: the centroids the next question is compared with
    count = 0
    for row, vector in enumerate(vectors):
        scores = units[:count] @ vector
        best = int(np.argmax(scores)) if count else -1
        if best < 0 or scores[best] < similarity:
            if count == len(sums):
                sums, units = np.vstack([sums, np.zeros_like(sums)]), np.vstack([units, np.zeros_like(units)])
            best, count = count, count + 1
        sums[best] += vector
        units[best] = sums[best] / max(float(np.linalg.norm(sums[best])), 1e-12)
        labels[row] = best
    for start in range(0, len(vectors), 2048):  # reassignment, a slice at a time
        labels[start : start + 2048] = np.argmax(vectors[start : start + 2048] @ units[:count].T, axis=1)
    return labels


def _near_documents(searcher: Searcher | None, question: str, n: int) -> tuple[NearDocument, ...]:
    if searcher is None or n == 0:
        return ()
    documents: dict[str, NearDocument] = {}
    for passage in searcher.search(question, top_k=3 * n):
        if passage.doc_id not in documents:
            documents[passage.doc_id] = NearDocument(passage.doc_id, passage.citation.title, float(passage.score))
    return tuple(list(documents.values())[:n])


def _gap_id(questions: Sequence[GapQuestion]) -> str:
    import hashlib

    return hashlib.sha1("\x1f".join(sorted(q.turn_id for q in questions)).encode()).hexdigest()[:8]


def cluster_gaps(
    current: Sequence[GapQuestion],
    previous: Sequence[GapQuestion],
    embedder: Embedder,
    searcher: Searcher | None = None,
    settings: GapSettings = GapSettings(),
) -> list[GapCluster]:
    """Clusters of the current questions (with their previous-period counts), largest first."""
    if not current:
        return []
    questions = [*current, *previous]
    texts = list(dict.fromkeys(q.question for q in questions))  # each distinct text embedded once
    distinct = embedder.embed_queries(texts)
    background = embedder.embed_queries(list(BACKGROUND))
    vectors = centred_questions(distinct, background)
    by_text = {text: row for row, text in enumerate(texts)}
    labels = cluster_vectors(vectors, settings.similarity)
    members: dict[int, list[int]] = {}
    for i, q in enumerate(questions):
        members.setdefault(int(labels[by_text[q.question]]), []).append(i)
    clusters: list[GapCluster] = []
    for rows in members.values():
        now = [questions[i] for i in rows if i < len(current)]
        if len(now) < settings.min_size:
            continue
        centroid = _normalise(vectors[[by_text[q.question] for q in now]].sum(axis=0, keepdims=True))[0]
        ranked = sorted(dict.fromkeys(q.question for q in now), key=lambda t: -float(vectors[by_text[t]] @ centroid))
        clusters.append(
            GapCluster(
                gap_id=_gap_id(now),
                question=ranked[0],
                size=len(now),
                previous=len(rows) - len(now),
                reasons=dict(Counter(q.reason for q in now)),
                channels=dict(Counter(q.channel for q in now)),
                examples=tuple(ranked[: settings.examples]),
                turn_ids=tuple(q.turn_id for q in now),
                documents=_near_documents(searcher, ranked[0], settings.documents),
            )
        )
    return sorted(clusters, key=lambda c: (-c.size, -(c.size - c.previous), c.question))


def find_gaps(
    engine: Engine,
    start: datetime,
    end: datetime,
    embedder: Embedder,
    searcher: Searcher | None = None,
    settings: GapSettings = GapSettings(),
) -> KnowledgeGaps:
    """The period's knowledge gaps from the conversation log (``ConversationLog.engine``), largest first."""
    if end <= start:
        raise ValueError("a period's end must come after its start")
    current = gap_questions(engine, start, end, settings)
    previous = gap_questions(engine, start - (end - start), start, settings)
    return KnowledgeGaps(
        start=start,
        end=end,
        questions=len(current),
        previous_questions=len(previous),
        reasons=dict(Counter(q.reason for q in current)),
        clusters=tuple(cluster_gaps(current, previous, embedder, searcher, settings)),
    )
