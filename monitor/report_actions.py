"""处置建议: what staff should do next, derived from the report's own findings, most urgent first.

Each action names its object and its evidence, so a reader can check it against the section it comes from:

1. **respond** (priority 1): a risk signal — a message the risk score rates 高, or a cluster whose negative
   share grows — gets a public response within 48 hours, the State Council's limit for 政务舆情 (a message
   older than two days at the period's end: check that it was answered).
2. **forward** (priority 1 for the top three hot issues, else 2): "将问题 X 转交 Z" with the department the
   category table gives for the issue's 事项分类.
3. **interpret** (priority 2): a knowledge-gap cluster the assistant could not answer becomes
   "为「Y」补充解读", naming the closest existing document when there is one.
4. **inform** (priority 2): a burst flagged in the period — publish authoritative information on the topic.
5. **improve** (priority 3): departments whose replies score lowest or come late.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .bursts import Burst, RisingTopic
from .gaps import REASONS, KnowledgeGaps
from .hotspots import HotIssue
from .risks import CUE_LABELS, RiskSignals

if TYPE_CHECKING:
    from .report import IssueRouting, ReplyQuality

MAX_FORWARDS = 10
MAX_INTERPRETATIONS = 8
MAX_BURSTS = 5
MAX_DEPARTMENTS = 3
MAX_RISKS = 5
RECENT = timedelta(days=2)


@dataclass(frozen=True)
class Action:
    """One thing to do: how urgent (1 first), what kind, the sentence staff read, and the evidence."""

    priority: int
    kind: str  # respond | forward | interpret | inform | improve
    text: str
    basis: str

    def to_json(self) -> dict[str, Any]:
        return {"priority": self.priority, "kind": self.kind, "text": self.text, "basis": self.basis}


def _named(issue: HotIssue) -> str:
    """The issue's description, led by its place unless the description already names it."""
    if issue.place_or_group in issue.description:
        return issue.description
    return f"{issue.place_or_group}：{issue.description}"


def _forwards(issues: Sequence[HotIssue], routing: Sequence[IssueRouting]) -> list[Action]:
    routes = {r.issue_id: r for r in routing}
    actions = []
    for issue in issues[:MAX_FORWARDS]:
        route = routes.get(issue.issue_id)
        where = route.department if route is not None else "12345热线办（人工分派）"
        category = f"，事项分类 {route.category}" if route is not None and route.category else ""
        actions.append(
            Action(
                priority=1 if issue.rank <= 3 else 2,
                kind="forward",
                text=f"将问题 {issue.issue_id}（{_named(issue)}）转交{where}办理",
                basis=f"热度排名第 {issue.rank}，热度 {issue.heat}，{len(issue.messages)} 条留言、"
                f"{issue.users} 位用户，{issue.time_range}{category}",
            )
        )
    return actions


def _bursts(bursts: Sequence[Burst], rising: Sequence[RisingTopic]) -> list[Action]:
    actions = []
    for burst in sorted(bursts, key=lambda b: -b.z)[:MAX_BURSTS]:
        new = "新出现的" if burst.new else ""
        actions.append(
            Action(
                priority=2,
                kind="inform",
                text=f"针对{new}话题「{burst.topic}」发布权威信息或情况说明",
                basis=f"{burst.detected_on:%m月%d日} 起突增：{burst.count} 条留言，"
                f"预期 {burst.expected}，z = {burst.z}",
            )
        )
    seen = {b.topic for b in bursts}
    for topic in sorted(rising, key=lambda r: -r.z)[: max(0, MAX_BURSTS - len(actions))]:
        if topic.topic not in seen:
            actions.append(
                Action(
                    priority=3,
                    kind="inform",
                    text=f"关注上升话题「{topic.topic}」，准备答复口径",
                    basis=f"本期 {topic.count} 条，前几期平均 {topic.previous_mean} 条，z = {topic.z}",
                )
            )
    return actions


def _departments(quality: ReplyQuality) -> list[Action]:
    actions = []
    for row in quality.departments[:MAX_DEPARTMENTS]:
        if int(row["replies"]) < 3 or row["department"] == "未署名":
            continue
        days = row["mean_working_days"]
        late = f"，平均 {days} 个工作日" if isinstance(days, float) and days == days else ""
        actions.append(
            Action(
                priority=3,
                kind="improve",
                text=f"督促{row['department']}改进答复质量",
                basis=f"{row['replies']} 条答复，平均得分 {row['mean_score']}{late}",
            )
        )
    return actions


def _risks(risks: RiskSignals | None) -> list[Action]:
    if risks is None:
        return []
    actions = []
    for message in [m for m in risks.messages if m.level == "高"][:MAX_RISKS]:
        cues = "、".join(CUE_LABELS[c] for c in message.cues)
        recent = message.at >= risks.end - RECENT  # still inside the 48 hours the State Council allows
        what = "48 小时内回应" if recent else "核实是否已回应"
        actions.append(
            Action(
                priority=1,
                kind="respond",
                text=f"{what}留言 {message.message_id}「{message.title}」，转{message.department}核实处置",
                basis=f"风险等级高（{cues}：{'、'.join(message.words[:4])}），得分 {message.score}，"
                f"{message.at:%m月%d日}",
            )
        )
    for trend in risks.issues[:MAX_RISKS]:
        actions.append(
            Action(
                priority=1,
                kind="respond",
                text=f"问题 {trend.issue_id}「{trend.place_or_group}」负面情绪上升，尽快公开回应处置进展",
                basis=f"{trend.messages} 条留言中，负面占比由前半段 {trend.earlier_share:.0%} 升至后半段 "
                f"{trend.later_share:.0%}",
            )
        )
    return actions


def _gaps(gaps: KnowledgeGaps | None) -> list[Action]:
    if gaps is None:
        return []
    actions = []
    for cluster in gaps.clusters[:MAX_INTERPRETATIONS]:
        reasons = "、".join(f"{REASONS[k]} {v} 次" for k, v in cluster.reasons.items())
        near = cluster.documents[0] if cluster.documents else None
        text = f"为「{cluster.question}」补充解读或问答"
        if near is not None:
            text += f"（现有最接近的文件：《{near.title}》，可在其解读中补充）"
        actions.append(
            Action(
                priority=2,
                kind="interpret",
                text=text,
                basis=f"本期 {cluster.size} 次（上期 {cluster.previous} 次，{cluster.trend}）：{reasons}",
            )
        )
    return actions


def derive_actions(
    issues: Sequence[HotIssue],
    routing: Sequence[IssueRouting],
    bursts: Sequence[Burst],
    rising: Sequence[RisingTopic],
    gaps: KnowledgeGaps | None,
    risks: RiskSignals | None,
    quality: ReplyQuality,
) -> list[Action]:
    """Every action the findings call for, most urgent first (stable within a priority)."""
    actions = [
        *_risks(risks),
        *_forwards(issues, routing),
        *_gaps(gaps),
        *_bursts(bursts, rising),
        *_departments(quality),
    ]
    return sorted(actions, key=lambda a: a.priority)
