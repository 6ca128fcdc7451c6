"""The report as files: a self-contained HTML page, a PDF (WeasyPrint), an XLSX workbook (openpyxl) and JSON.

HTML and PDF come from one Jinja2 template (monitor/templates/report.html, its sections shared with the /reports
page); charts are embedded as PNG data URIs, so the file is whole on its own. The workbook has one sheet per
section, including the challenge's two tables: 热点问题 (热度排名, 问题ID, 热度指数, 时间范围, 地点/人群, 问题描述)
and 热点问题留言明细 (问题ID, 留言编号, 留言时间, 留言主题) (monitor/report_workbook.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path

import jinja2

from . import charts
from .gaps import REASONS
from .report import Report
from .report_workbook import PART_LABELS, PRIORITIES, pct, render_xlsx

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("html", "pdf", "xlsx", "json")
ChartSource = Callable[[str], str]


def _num(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _score(value: float | None) -> str:
    return "—" if value is None or value != value else f"{value:.2f}"


def _day(value: date) -> str:
    return f"{value:%Y-%m-%d}"


def _when(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M}"


def template_environment(*extra: Path) -> jinja2.Environment:
    """The templates (extra folders first, then monitor/templates) with the report's filters and labels."""
    loader = jinja2.FileSystemLoader([*map(str, extra), str(TEMPLATES)])
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html"]), trim_blocks=False)
    env.filters.update(pct=pct, num=_num, score=_score, day=_day, when=_when)
    env.globals.update(reasons=REASONS, parts=PART_LABELS, priorities=PRIORITIES, detail_rows=15, detail_issues=10)
    return env


@cache
def _environment() -> jinja2.Environment:
    return template_environment()


def title_of(report: Report) -> str:
    return f"舆情分析报告（{report.period.first:%Y.%m.%d}–{report.period.last:%Y.%m.%d}）"


def embedded_charts(report: Report) -> ChartSource:
    """Charts as PNG data URIs, each drawn once."""
    drawn: dict[str, str] = {}

    def source(name: str) -> str:
        if name not in drawn:
            data = base64.b64encode(charts.draw(name, report, "png")).decode("ascii")
            drawn[name] = f"data:image/png;base64,{data}"
        return drawn[name]

    return source


def render_html(report: Report, chart: ChartSource | None = None) -> str:
    """The whole report as one HTML document, details expanded (the PDF prints what the file shows)."""
    template = _environment().get_template("report.html")
    return template.render(report=report, chart=chart or embedded_charts(report), title=title_of(report), expand=True)


def render_pdf(report: Report, html: str | None = None) -> bytes:
    """The report as PDF: the HTML document through WeasyPrint (pango, Noto Sans CJK)."""
    import weasyprint

    return bytes(weasyprint.HTML(string=html or render_html(report), base_url=str(TEMPLATES)).write_pdf())


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2)


def file_name(report: Report, fmt: str) -> str:
    return f"舆情报告-{report.period.slug}.{fmt}"


def write_report(report: Report, fmt: str, directory: Path) -> Path:
    """Write the report in one format into ``directory`` (created); the path written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(report, fmt)
    if fmt == "html":
        path.write_text(render_html(report), encoding="utf-8")
    elif fmt == "pdf":
        path.write_bytes(render_pdf(report))
    elif fmt == "xlsx":
        path.write_bytes(render_xlsx(report))
    else:
        path.write_text(render_json(report), encoding="utf-8")
    return path
