"""The report as an XLSX workbook (openpyxl): one sheet per section, tables one under another, charts on 概况.

The challenge's two tables open their sheets at A1: 热点问题 (热度排名, 问题ID, 热度指数, 时间范围, 地点/人群, 问题描述,
then counts, category and department) and 热点问题留言明细 (问题ID, 留言编号, 留言时间, 留言主题).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from . import charts
from .gaps import REASONS
from .replies import PARTS
from .report import Report

PART_LABELS = dict(zip(PARTS, ("称呼问候", "实质内容", "政策依据", "结束语"), strict=True))
PRIORITIES = {1: "紧急", 2: "重要", 3: "一般"}


def pct(value: float | None) -> str:
    """A share as a percentage with one decimal, — when there is none."""
    return "—" if value is None else f"{100 * value:.1f}%"


Table = tuple[str, Sequence[str], Iterable[Sequence[Any]]]  # (caption, headers, rows)


def _overview_tables(report: Report) -> list[Table]:
    o = report.overview
    figures = [
        ("统计期", report.period.label),
        ("问政留言（条）", o.messages),
        ("对话提问（次）", o.questions),
        ("已解答", o.answered),
        ("未能解答", o.unanswered),
        ("解答率", pct(o.answer_rate)),
        ("“没用”反馈（次）", o.not_useful),
        ("工单（件）", o.work_orders),
    ]
    figures += [("说明", note) for note in report.notes]
    return [
        ("主要数字", ("项目", "数值"), figures),
        ("各渠道数量", ("渠道", "数量"), o.channels),
        (
            "各渠道解答率",
            ("渠道", "已解答", "未能解答", "解答率"),
            [(c, a, u, pct(a / (a + u))) for c, a, u in o.answer_by_channel],
        ),
        ("事项分类", ("一级分类", "数量"), o.categories),
        ("工单类型", ("类型", "数量"), o.work_order_kinds),
        (
            "每日数量",
            ("日期", "问政留言", "对话提问", "已解答", "未能解答", "工单"),
            [(d.day, d.messages, d.questions, d.answered, d.unanswered, d.work_orders) for d in o.days],
        ),
    ]


def _hot_tables(report: Report) -> list[Table]:
    rows = []
    for i in report.hot_issues:
        route = report.route_of(i.issue_id)
        rows.append(
            (
                i.rank,
                i.issue_id,
                i.heat,
                i.time_range,
                i.label,
                i.description,
                len(i.messages),
                i.users,
                i.likes,
                i.dislikes,
                route.category if route else "",
                route.department if route else "",
            )
        )
    headers = (
        "热度排名",
        "问题ID",
        "热度指数",
        "时间范围",
        "地点/人群",
        "问题描述",
        "留言数",
        "用户数",
        "点赞数",
        "反对数",
        "事项分类",
        "建议承办单位",
    )
    return [("热点问题表", headers, rows)]


def _detail_tables(report: Report) -> list[Table]:
    rows = [(m.issue_id, m.message_id, m.at, m.title) for i in report.hot_issues for m in i.messages]
    return [("热点问题留言明细表", ("问题ID", "留言编号", "留言时间", "留言主题"), rows)]


def _rising_tables(report: Report) -> list[Table]:
    return [
        (
            "突增话题",
            ("话题", "发现日期", "持续至", "条数", "预期", "z 值", "新话题", "留言编号"),
            [
                (
                    b.topic,
                    b.detected_on,
                    b.last_day,
                    b.count,
                    b.expected,
                    b.z,
                    "是" if b.new else "否",
                    "、".join(b.message_ids),
                )
                for b in report.bursts
            ],
        ),
        (
            "上升话题",
            ("话题", "本期条数", "此前平均", "z 值", "新话题"),
            [(r.topic, r.count, r.previous_mean, r.z, "是" if r.new else "否") for r in report.rising],
        ),
    ]


def _gap_tables(report: Report) -> list[Table]:
    g = report.gaps
    if g is None:
        return [("说明", ("说明",), [("未接入对话日志或向量模型，本节为空。",)])]
    summary = [("本期问题数", g.questions), ("上期问题数", g.previous_questions)]
    summary += [(REASONS[k], v) for k, v in g.reasons.items()]
    clusters = [
        (
            c.gap_id,
            c.question,
            c.size,
            c.previous,
            c.trend,
            "；".join(f"{REASONS[k]} {v}" for k, v in c.reasons.items()),
            "；".join(c.examples),
            "；".join(f"{d.title}（{d.doc_id}）" for d in c.documents),
        )
        for c in g.clusters
    ]
    return [
        ("未解答问题", ("项目", "数值"), summary),
        (
            "知识缺口",
            ("缺口ID", "代表性问题", "本期", "上期", "趋势", "原因", "问法示例", "最接近的现有文件"),
            clusters,
        ),
    ]


def _risk_tables(report: Report) -> list[Table]:
    r = report.risks
    volumes = ("名称", "留言", "负面", "负面占比", "中高风险")

    def rows(items: Sequence[Any]) -> list[tuple[Any, ...]]:
        return [(v.name, v.count, v.negative, v.negative_share, v.risky) for v in items]

    return [
        (
            "风险概况",
            ("项目", "数值"),
            [("留言", r.total), ("负面", r.negative), *((f"风险等级{k}", v) for k, v in r.levels.items())],
        ),
        (
            "需优先关注的留言",
            ("等级", "得分", "留言编号", "时间", "留言主题", "风险线索", "事项分类", "建议承办单位"),
            [
                (m.level, m.score, m.message_id, m.at, m.title, "、".join(m.words), m.category, m.department)
                for m in r.messages
            ],
        ),
        (
            "负面情绪上升的热点问题",
            ("问题ID", "地点/人群", "问题描述", "留言", "前半段负面占比", "后半段负面占比"),
            [
                (t.issue_id, t.place_or_group, t.description, t.messages, t.earlier_share, t.later_share)
                for t in r.issues
            ],
        ),
        ("按事项分类", volumes, rows(r.by_category)),
        ("按建议承办单位", volumes, rows(r.by_department)),
        ("按诉求类型", volumes, rows(r.by_request_type)),
    ]


def _reply_tables(report: Report) -> list[Table]:
    q = report.replies
    summary = [
        ("留言", q.messages),
        ("已答复", q.replies),
        ("平均用时（工作日）", q.mean_working_days),
        (f"{q.target_days} 个工作日内答复", pct(q.within_target)),
        ("平均相关性", q.mean_relevance),
        ("平均完整性", q.mean_completeness),
        ("平均得分", q.mean_score),
    ]
    return [
        ("答复质量", ("项目", "数值"), summary),
        (
            "各答复单位",
            ("答复单位", "答复数", "平均工作日", "平均得分"),
            [(d["department"], d["replies"], d["mean_working_days"], d["mean_score"]) for d in q.departments],
        ),
        (
            "得分最低的答复",
            (
                "留言编号",
                "留言主题",
                "答复单位",
                "留言时间",
                "答复时间",
                "工作日",
                "及时性",
                "相关性",
                "完整性",
                "缺少",
                "得分",
                "答复要点",
            ),
            [
                (
                    a.message_id,
                    a.title,
                    a.department,
                    a.asked_at,
                    a.replied_at,
                    a.working_days,
                    a.timeliness,
                    a.relevance,
                    a.completeness,
                    "、".join(PART_LABELS[p] for p in a.missing_parts),
                    a.score,
                    a.gist,
                )
                for a in q.weakest
            ],
        ),
    ]


def _action_tables(report: Report) -> list[Table]:
    return [
        (
            "处置建议",
            ("优先级", "类型", "建议", "依据"),
            [(PRIORITIES[a.priority], a.kind, a.text, a.basis) for a in report.actions],
        )
    ]


SHEETS: tuple[tuple[str, Callable[[Report], list[Table]]], ...] = (
    ("概况", _overview_tables),
    ("热点问题", _hot_tables),
    ("热点问题留言明细", _detail_tables),
    ("新增与上升话题", _rising_tables),
    ("未解答问题与知识缺口", _gap_tables),
    ("风险提示", _risk_tables),
    ("答复质量", _reply_tables),
    ("处置建议", _action_tables),
)


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None  # NaN (a department without dated replies): an empty cell, not a number Excel shows as #NUM!
    return value


def render_xlsx(report: Report, with_charts: bool = True) -> bytes:
    """The workbook: one sheet per section, tables one under another, charts on 概况."""
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    book.remove(book.active)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="E8EEF6")
    for name, tables in SHEETS:
        sheet = book.create_sheet(name)
        widths: dict[int, int] = {}
        row = 1
        made = tables(report)
        single = len(made) == 1 and name in ("热点问题", "热点问题留言明细")
        for caption, headers, rows in made:
            if not single:  # the challenge's two tables start at A1 with their header row, as the task lays them out
                sheet.cell(row, 1, caption).font = Font(bold=True, size=12)
                row += 1
            for col, header in enumerate(headers, start=1):
                cell = sheet.cell(row, col, header)
                cell.font, cell.fill = bold, fill
                widths[col] = max(widths.get(col, 0), 2 * len(header) + 2)
            if single:
                sheet.freeze_panes = sheet.cell(row + 1, 1)
            row += 1
            for values in rows:
                for col, value in enumerate(values, start=1):
                    cell = sheet.cell(row, col, _cell(value))
                    if isinstance(value, datetime):
                        cell.number_format = "yyyy-mm-dd hh:mm:ss"
                    elif isinstance(value, date):
                        cell.number_format = "yyyy-mm-dd"
                    text = str(value) if value is not None else ""
                    widths[col] = max(widths.get(col, 0), min(60, 2 * len(text) + 2))
                    if len(text) > 30:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
                row += 1
            row += 1
        for col, width in widths.items():
            sheet.column_dimensions[sheet.cell(1, col).column_letter].width = max(8, min(width, 60))
        if name == "概况" and with_charts:
            anchor_row = 1
            for chart_name in charts.CHARTS:
                image = Image(io.BytesIO(charts.draw(chart_name, report, "png", dpi=80)))
                sheet.add_image(image, f"H{anchor_row}")
                anchor_row += int(image.height / 20) + 2
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
