"""Risk signals: strongly negative or urgent messages, hot issues turning more negative, volumes by category.

Risk score of a message (its 主题 and 详情), in [0, 1]. Cue groups, each with a weight::

    threat     0.9   自杀 跳楼 轻生 以死 同归于尽 报复社会 纵火 喝农药 …   (extreme wording: always 高)
    collective 0.6   集体 联名 群体 拉横幅 堵路 围堵 静坐 聚集 上百户 …
    media      0.6   曝光 媒体 记者 电视台 微博 抖音 热搜 …
    petition   0.5   上访 信访 维权 讨薪 讨说法 起诉 …
    harm       0.6   坍塌 火灾 爆炸 中毒 被困 伤亡 受伤 溺水 …
    safety     0.3   紧急 安全隐患 生命安全 漏电 漏气 危房
    report     0.4   举报 检举 揭发
    complaint  0.35  投诉
    anger      0.35  强烈不满 愤怒 忍无可忍 欺诈 霸王 黑心 不作为 推诿 拖欠 欠薪 殴打 …

    score = 1 − Π (1 − w)   over the matched groups and an attention term w = min(0.3, 0.1 · log10(1 + L + D))

(a noisy-or: two moderate cues together, 投诉 + 曝光, weigh more than either, and no sum exceeds 1; L and D
are the likes and dislikes). Level: 高 when the score reaches ``high`` (0.8) or a threat cue is present, 中
from ``medium`` (0.6), else 低; only 中 and 高 are listed. A message is *negative* when its score reaches
``negative`` (0.35): one complaint or anger cue is enough.

Hot issues turning negative: an issue's messages in time order are split in half; it is listed when the later
half's negative share exceeds the earlier half's by ``growth`` (0.25) or more and the later half holds at
least two negative messages (issues of fewer than four messages are not judged).

Volumes: every message of the period by 事项分类 (monitor/classify.py's first level, second level from the
taxonomy), by 建议承办单位 (monitor/departments.yml) and by 诉求类型, each with its negative and listed
counts. Classification reads each distinct text once, and with a hybrid model it uses the vectors stored on
import in place of its own embeddings, so nothing is embedded again for a report.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from .classify import Category, message_text, request_type

if TYPE_CHECKING:
    from .classify import Classifier
    from .hotspots import HotIssue
    from .messages import Message

CUES: dict[str, tuple[float, re.Pattern[str]]] = {
    "threat": (
        0.9,
        re.compile(
            r"自杀|跳楼|轻生|以死|寻死|不想活|同归于尽|报复社会|炸药|炸掉|纵火|放火|喝农药|拼命|血债|一命换一命"
        ),
    ),
    "collective": (
        0.6,
        re.compile(
            r"集体|联名|群体|拉横幅|横幅|堵路|围堵|静坐|聚集|游行|上百户|几百户|数百户|上千户|全体业主|众多业主"
        ),
    ),
    "media": (0.6, re.compile(r"曝光|媒体|记者|电视台|央视|微博|抖音|热搜|舆论|网上发帖")),
    "petition": (0.5, re.compile(r"上访|信访|维权|讨薪|讨说法|讨个说法|起诉|打官司|告到")),
    "harm": (0.6, re.compile(r"坍塌|倒塌|塌陷|火灾|爆炸|中毒|被困|困人|伤亡|死亡|身亡|受伤|溺水")),
    "safety": (0.3, re.compile(r"紧急|十万火急|安全隐患|生命安全|漏电|漏气|危房")),
    "report": (0.4, re.compile(r"举报|检举|揭发")),
    "complaint": (0.35, re.compile(r"投诉")),
    "anger": (
        0.35,
        re.compile(
            r"强烈不满|非常不满|愤怒|气愤|忍无可忍|欺诈|诈骗|霸王|黑心|坑害|欺压|不作为|推诿|踢皮球|敷衍|拖欠|欠薪|克扣|"
            r"血汗钱|殴打|打人|暴力"
        ),
    ),
}
CUE_LABELS = {
    "threat": "威胁/极端",
    "collective": "集体行动",
    "media": "媒体曝光",
    "petition": "上访维权",
    "harm": "伤亡事故",
    "safety": "安全隐患",
    "report": "举报",
    "complaint": "投诉",
    "anger": "强烈不满",
}
UNCLASSIFIED = "未分类"


@dataclass(frozen=True)
class RiskSettings:
    """Thresholds of the risk score (see the module docstring)."""

    high: float = 0.8
    medium: float = 0.6
    negative: float = 0.35
    growth: float = 0.25
    min_issue_messages: int = 4
    top: int = 30

    def __post_init__(self) -> None:
        if not 0 < self.negative <= self.medium <= self.high <= 1:
            raise ValueError("risk thresholds need 0 < negative <= medium <= high <= 1")
        if self.top < 1 or self.min_issue_messages < 2:
            raise ValueError("top must be at least 1 and min_issue_messages at least 2")


@dataclass(frozen=True)
class RiskScore:
    """A text's risk score and the cue groups (with the words) that made it."""

    score: float
    cues: tuple[str, ...]
    words: tuple[str, ...]

    @property
    def threat(self) -> bool:
        return "threat" in self.cues


def risk_score(text: str, likes: int = 0, dislikes: int = 0) -> RiskScore:
    """The noisy-or risk score of a text and its engagement (formula in the module docstring)."""
    keep, cues, words = 1.0, [], []
    for group, (weight, pattern) in CUES.items():
        found = list(dict.fromkeys(pattern.findall(text)))
        if found:
            keep *= 1 - weight
            cues.append(group)
            words.extend(found)
    attention = min(0.3, 0.1 * math.log10(1 + max(likes, 0) + max(dislikes, 0)))
    keep *= 1 - attention
    return RiskScore(round(1 - keep, 3), tuple(cues), tuple(words))


def risk_level(score: RiskScore, settings: RiskSettings = RiskSettings()) -> str:
    """高 / 中 / 低 of a score."""
    if score.threat or score.score >= settings.high:
        return "高"
    return "中" if score.score >= settings.medium else "低"


@dataclass(frozen=True)
class RiskMessage:
    """A message that needs attention: its score, level, cues, category and department."""

    message_id: str
    at: datetime
    title: str
    score: float
    level: str
    cues: tuple[str, ...]
    words: tuple[str, ...]
    category: str
    department: str
    likes: int
    dislikes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "at": self.at.isoformat(),
            "title": self.title,
            "score": self.score,
            "level": self.level,
            "cues": [CUE_LABELS[c] for c in self.cues],
            "words": list(self.words),
            "category": self.category,
            "department": self.department,
            "likes": self.likes,
            "dislikes": self.dislikes,
        }


@dataclass(frozen=True)
class NegativeTrend:
    """A hot issue whose later messages are more negative than its earlier ones."""

    issue_id: str
    place_or_group: str
    description: str
    messages: int
    earlier_share: float
    later_share: float
    later_negative: int

    @property
    def growth(self) -> float:
        return round(self.later_share - self.earlier_share, 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "issue_id": self.issue_id,
            "place_or_group": self.place_or_group,
            "description": self.description,
            "messages": self.messages,
            "earlier_share": self.earlier_share,
            "later_share": self.later_share,
            "growth": self.growth,
            "later_negative": self.later_negative,
        }


@dataclass(frozen=True)
class Volume:
    """Messages of one category, department or request type: all, negative, listed as 中/高 risks."""

    name: str
    count: int
    negative: int
    risky: int

    @property
    def negative_share(self) -> float:
        return round(self.negative / self.count, 3) if self.count else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "count": self.count,
            "negative": self.negative,
            "risky": self.risky,
            "negative_share": self.negative_share,
        }


@dataclass(frozen=True)
class RiskSignals:
    """What the report's 风险提示 shows for a period."""

    start: datetime
    end: datetime
    total: int
    negative: int
    messages: tuple[RiskMessage, ...]
    issues: tuple[NegativeTrend, ...]
    by_category: tuple[Volume, ...]
    by_department: tuple[Volume, ...]
    by_request_type: tuple[Volume, ...]
    levels: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """The report's JSON ``risks`` object."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "total": self.total,
            "negative": self.negative,
            "levels": dict(self.levels),
            "messages": [m.to_json() for m in self.messages],
            "issues": [i.to_json() for i in self.issues],
            "by_category": [v.to_json() for v in self.by_category],
            "by_department": [v.to_json() for v in self.by_department],
            "by_request_type": [v.to_json() for v in self.by_request_type],
        }


def categorise(
    messages: Sequence[Message], vectors: np.ndarray | None, classifier: Classifier | None
) -> list[tuple[Category, str]]:
    """(事项分类, 建议承办单位) of each message; each distinct text is classified once, nothing is embedded."""
    if classifier is None or classifier.model is None:
        department = classifier.departments.department_for(Category()) if classifier else UNCLASSIFIED
        return [(Category(), department)] * len(messages)
    texts = [message_text(m.title, m.detail) for m in messages]
    first: dict[str, int] = {}
    for row, text in enumerate(texts):
        first.setdefault(text, row)
    distinct = list(first)
    hybrid = classifier.model.embedder is not None
    rows = [first[t] for t in distinct]
    if hybrid and (vectors is None or len(vectors) != len(messages)):
        raise ValueError("a hybrid classifier needs the messages' stored vectors (one row per message)")
    stored = vectors[rows] if hybrid and vectors is not None else None
    labels = classifier.model.predict_many(distinct, vectors=stored) if distinct else []
    refine = classifier.taxonomy.refine if classifier.taxonomy else None
    decided: dict[str, tuple[Category, str]] = {}
    for text, level1 in zip(distinct, labels, strict=True):
        level2, level3 = refine(level1, text) if refine else ("", "")
        category = Category(level1, level2, level3)
        decided[text] = (category, classifier.departments.department_for(category))
    return [decided[t] for t in texts]


def _negative_trend(issue: HotIssue, negative: dict[str, bool], settings: RiskSettings) -> NegativeTrend | None:
    flags = [negative.get(row.message_id, False) for row in issue.messages]  # issue rows are in time order
    if len(flags) < settings.min_issue_messages:
        return None
    half = len(flags) // 2
    earlier, later = flags[:half], flags[half:]
    earlier_share, later_share = sum(earlier) / len(earlier), sum(later) / len(later)
    if later_share - earlier_share < settings.growth or sum(later) < 2:
        return None
    return NegativeTrend(
        issue.issue_id,
        issue.label,  # the place and the problem's key words: two issues of one place read apart
        issue.description,
        len(flags),
        round(earlier_share, 3),
        round(later_share, 3),
        sum(later),
    )


def _volumes(names: Sequence[str], negative: Sequence[bool], risky: Sequence[bool]) -> tuple[Volume, ...]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for name, neg, risk in zip(names, negative, risky, strict=True):
        tally = counts[name]
        tally[0] += 1
        tally[1] += neg
        tally[2] += risk
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return tuple(Volume(name, *tally) for name, tally in ordered)


def find_risks(
    messages: Sequence[Message],
    vectors: np.ndarray | None,
    start: datetime,
    end: datetime,
    issues: Sequence[HotIssue] = (),
    classifier: Classifier | None = None,
    settings: RiskSettings = RiskSettings(),
) -> RiskSignals:
    """Risk signals of the messages with start <= at < end; ``vectors`` rows align with ``messages``.

    ``issues`` are the period's hot issues (monitor/hotspots.py), judged for a growing negative share;
    ``classifier`` (monitor/classify.py) gives categories and departments, without it they are 未分类.
    """
    rows = [i for i, m in enumerate(messages) if start <= m.at < end]
    inside = [messages[i] for i in rows]
    period_vectors = vectors[rows] if vectors is not None and len(vectors) == len(messages) and rows else None
    scores = [risk_score(m.text, m.likes, m.dislikes) for m in inside]
    levels = [risk_level(s, settings) for s in scores]
    negative = [s.score >= settings.negative for s in scores]
    risky = [level != "低" for level in levels]
    categories = categorise(inside, period_vectors, classifier)
    listed = sorted(
        (
            RiskMessage(
                m.external_id,
                m.at,
                m.title,
                s.score,
                level,
                s.cues,
                s.words,
                category.path or UNCLASSIFIED,
                department,
                m.likes,
                m.dislikes,
            )
            for m, s, level, (category, department) in zip(inside, scores, levels, categories, strict=True)
            if level != "低"
        ),
        key=lambda r: (r.level != "高", -r.score, -(r.likes + r.dislikes), r.at, r.message_id),
    )
    by_id = {m.external_id: neg for m, neg in zip(inside, negative, strict=True)}
    trends = [t for issue in issues if (t := _negative_trend(issue, by_id, settings)) is not None]
    trends.sort(key=lambda t: (-t.growth, -t.later_negative, t.issue_id))
    return RiskSignals(
        start=start,
        end=end,
        total=len(inside),
        negative=sum(negative),
        messages=tuple(listed[: settings.top]),
        issues=tuple(trends),
        by_category=_volumes([c.level1 or UNCLASSIFIED for c, _ in categories], negative, risky),
        by_department=_volumes([d for _, d in categories], negative, risky),
        by_request_type=_volumes([request_type(m.text).value for m in inside], negative, risky),
        levels={level: Counter(levels)[level] for level in ("高", "中", "低")},
    )
