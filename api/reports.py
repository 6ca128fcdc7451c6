"""The staff report page ``GET /reports``: a period picker, the report's sections and charts, PDF and XLSX downloads.

Every route is for analysts (``Analyst``; admin passes too): the report shows masked records only, but what
citizens raise is not public. A report is built by monitor/report.py from the app's own store, conversation
log and work orders, once per period while the records stay the same (``data_version``); the page, its five
charts (``/reports/charts/NAME.svg``) and the downloads of one period share that build. The records are
opened on first use, in a worker thread, with the model that clusters the knowledge gaps' questions, and
closed with the app (``lifespan``).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import ColumnElement, Engine, func, select
from starlette.concurrency import run_in_threadpool

from monitor import charts
from monitor.messages import messages_table
from monitor.report import Report, build_report
from monitor.report_formats import file_name, render_json, render_pdf, render_xlsx, template_environment
from monitor.report_sources import CHINA, BadPeriod, Period, ReportSources, data_version, open_sources
from monitor.schema import turns, work_orders

from .auth import Analyst
from .errors import error_responses
from .render import TEMPLATES
from .settings import AppSettings

router = APIRouter()
CACHED_REPORTS = 6
DEFAULT_DAYS = 30
ERRORS = error_responses(400, 401, 403, 404, 422)
DOWNLOADS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
}
From = Annotated[str | None, Query(alias="from", max_length=10, description="first day, YYYY-MM-DD (China time)")]
To = Annotated[str | None, Query(alias="to", max_length=10, description="last day, included, YYYY-MM-DD")]


@dataclass
class ReportDesk:
    """The records a report reads, opened once, and the last few reports built (one build at a time)."""

    settings: AppSettings
    sources: ReportSources | None = None
    cache: OrderedDict[tuple[object, ...], Report] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _sources(self) -> ReportSources:
        if self.sources is None:
            self.sources = open_sources(self.settings)
        return self.sources

    def report(self, period: Period) -> Report:
        """The period's report, built now or reused while the records it reads are unchanged."""
        with self.lock:  # two cores: building two reports at once would only slow both
            sources = self._sources()
            if sources.knowledge is not None:
                sources.knowledge.refresh()  # a newly published index: the gaps' closest documents follow it
            key = (period, data_version(sources))
            if key in self.cache:
                self.cache.move_to_end(key)
                return self.cache[key]
            built = build_report(sources, period)
            self.cache[key] = built
            while len(self.cache) > CACHED_REPORTS:
                self.cache.popitem(last=False)
            return built

    def default_period(self) -> Period:
        """The 30 days up to the newest record (today when there is none): a page opened cold shows data."""
        with self.lock:
            sources = self._sources()
            newest = [
                _newest(sources.messages.engine if sources.messages else None, messages_table.c.at, local=True),
                _newest(sources.log, turns.c.at),
                _newest(sources.work_orders, work_orders.c.created_at),
            ]
        known = [day for day in newest if day is not None]
        last = max(known) if known else datetime.now(CHINA).date()
        return Period(last - timedelta(days=DEFAULT_DAYS - 1), last)

    def close(self) -> None:
        """Close the records' databases and the knowledge reader, and drop the cached reports."""
        with self.lock:  # not under a build that still reads them
            if self.sources is not None:
                self.sources.close()
                self.sources = None
            self.cache.clear()


def _newest(engine: Engine | None, column: ColumnElement[datetime], local: bool = False) -> date | None:
    """The China-local day of a column's newest time; messages keep local time, the log and orders UTC."""
    if engine is None:
        return None
    with engine.connect() as conn:
        value = conn.execute(select(func.max(column))).scalar()
    if not isinstance(value, datetime):
        return None
    if local:
        return value.date()
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(CHINA).date()


@asynccontextmanager
async def lifespan(app: FastAPI, settings: AppSettings) -> AsyncIterator[None]:
    """The desk for the app's lifetime (its records open on the first report), closed when the app stops."""
    desk = ReportDesk(settings)
    app.state.report_desk = desk
    try:
        yield
    finally:
        await asyncio.to_thread(desk.close)


def _desk(request: Request) -> ReportDesk:
    return request.app.state.report_desk  # type: ignore[no-any-return]


DeskDep = Annotated[ReportDesk, Depends(_desk)]


async def _period(desk: ReportDesk, first: str | None, last: str | None) -> Period:
    """The asked period (BadPeriod for a bad one), or the default when neither bound is given."""
    if not first and not last:
        return await run_in_threadpool(desk.default_period)
    if not first or not last:
        raise BadPeriod("请同时给出开始日期（from）和结束日期（to）。")
    return Period.parse(first, last)


@cache
def _templates() -> jinja2.Environment:
    env = template_environment(TEMPLATES)
    env.globals["timedelta"] = timedelta  # the picker's previous and next period
    return env


def _query(period: Period) -> str:
    return urlencode({"from": period.first.isoformat(), "to": period.last.isoformat()})


def reports_page(report: Report, region: str, error: str = "") -> str:
    """The page: picker, downloads, then the report's sections with charts served by this router."""
    query = _query(report.period)

    def chart(name: str) -> str:
        return f"/reports/charts/{name}.svg?{query}"

    return (
        _templates()
        .get_template("reports.html")
        .render(
            report=report,
            chart=chart,
            query=query,
            region=region,
            error=error,
            expand=False,
            title=f"{region}舆情分析报告",
        )
    )


@router.get("/reports", include_in_schema=False)
async def page(
    desk: DeskDep,
    _: Analyst,
    first: From = None,
    last: To = None,
) -> HTMLResponse:
    region = desk.settings.service.region_name
    try:
        period = await _period(desk, first, last)
        status, error = 200, ""
    except BadPeriod as refused:  # the page says what is wrong and shows the default period instead
        period, status, error = await run_in_threadpool(desk.default_period), 400, refused.message
    report = await run_in_threadpool(desk.report, period)
    return HTMLResponse(reports_page(report, region, error), status_code=status, headers={"Cache-Control": "no-store"})


@router.get(
    "/reports/charts/{name}.{fmt}",
    summary="A chart of the period's report (PNG or SVG)",
    responses={**ERRORS, 200: {"content": {"image/svg+xml": {}, "image/png": {}}}},
    response_class=Response,
)
async def chart(
    desk: DeskDep,
    _: Analyst,
    name: Annotated[Literal["volume", "channels", "answer_rate", "categories", "hot_issues"], Path()],
    fmt: Annotated[Literal["svg", "png"], Path()],
    first: From = None,
    last: To = None,
) -> Response:
    report = await run_in_threadpool(desk.report, await _period(desk, first, last))
    image = await run_in_threadpool(charts.draw, name, report, fmt)
    media = "image/svg+xml" if fmt == "svg" else "image/png"
    return Response(image, media_type=media, headers={"Cache-Control": "private, max-age=300"})


@router.get(
    "/reports/download.{fmt}",
    summary="The period's report as PDF, XLSX or JSON",
    responses={**ERRORS, 200: {"content": {media: {} for media in DOWNLOADS}}},
    response_class=Response,
)
async def download(
    desk: DeskDep,
    _: Analyst,
    fmt: Annotated[Literal["pdf", "xlsx", "json"], Path()],
    first: From = None,
    last: To = None,
) -> Response:
    report = await run_in_threadpool(desk.report, await _period(desk, first, last))
    renderers: dict[str, Callable[[Report], bytes | str]] = {
        "pdf": render_pdf,
        "xlsx": render_xlsx,
        "json": render_json,
    }
    body = await run_in_threadpool(renderers[fmt], report)
    name = file_name(report, fmt)
    headers = {
        "Content-Disposition": f'attachment; filename="report-{report.period.slug}.{fmt}"; '
        f"filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
    }
    return Response(body, media_type=DOWNLOADS[fmt], headers=headers)
