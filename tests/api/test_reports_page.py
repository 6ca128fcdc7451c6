"""The staff report page /reports in real headless Chromium, over the real app with real messages (the first week of
December 2019), log turns the test writes, and accounts: who may see it, the sections and charts, the period
picker by keyboard, the downloads, phone width and axe-core."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from api.accounts import AccountStore, Role
from api.settings import AppSettings
from knowledge.embedding import Embedder
from monitor.classify import ClassifySettings
from monitor.exports import parse_time, read_rows
from monitor.log import ConversationLog, Turn
from monitor.messages import MessageStore, import_messages
from monitor.report_sources import CHINA

from ..conftest import shared_file
from .conftest import RunningApi, serve_api
from .pages import ROOT, SCREENSHOTS, axe_findings, logged_in_page, needs_chromium

pytestmark = needs_chromium
FIRST, LAST = datetime(2019, 12, 1), datetime(2019, 12, 8)
QUERY = "from=2019-12-01&to=2019-12-07"
SECTIONS = ["一、概况", "二、热点问题", "三、新增与上升话题", "四、未解答问题与知识缺口", "五、风险提示",
            "六、答复质量", "七、处置建议"]
ANALYST, PASSWORD = "analyst-wang", "舆情-analyst-pass-42"
BUILD_MS = 180_000  # the first build opens the records and the model on a busy 2-core machine


@dataclass(frozen=True)
class ReportsApi:
    api: RunningApi
    analyst_key: str
    operator_key: str

    def get(self, path: str, key: str | None = None) -> httpx.Response:
        headers = {"X-API-Key": key} if key else {}
        return httpx.get(f"{self.api.url}{path}", headers=headers, timeout=BUILD_MS / 1000)


def _import_week(store_url: str, directory: Path, embedder: Embedder) -> None:
    _, rows = read_rows(shared_file("tipdm", "messages_2019.xlsx"))
    path = directory / "问政平台.csv"
    columns = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数", "反对数"]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for _, row in rows:
            at = parse_time(row["留言时间"])
            if FIRST <= at < LAST:
                writer.writerow([at.strftime("%Y/%m/%d %H:%M:%S") if c == "留言时间" else row.get(c) for c in columns])
    store = MessageStore.open(store_url)
    assert import_messages(store, path, embedder).added > 50
    store.close()


def _log(log_url: str) -> None:
    log = ConversationLog.open(log_url)
    turns = ((2, "创业担保贷款额度是多少", "answer"), (3, "公积金可以提取付房租吗", "answer"),
             (4, "耕地地力保护补贴什么时候发", "no_answer"), (5, "耕地地力补贴哪天到账", "no_answer"))
    for day, question, kind in turns:
        at = datetime(2019, 12, day, 10, tzinfo=CHINA).astimezone(UTC)
        log.write(Turn(channel="web", user_hash=f"u{day}", question=question, reply_kind=kind,
                       answered=kind == "answer", confidence=0.8 if kind == "answer" else 0.1, at=at))
    log.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[ReportsApi]:
    root = tmp_path_factory.mktemp("reports-page")
    settings = AppSettings()
    settings.store.url = f"sqlite:///{root}/store.db"
    settings.index.dir = root / "index"
    settings.conversation_log.url = f"sqlite:///{root}/log.db"
    settings.conversation_log.spool = str(root / "log-spool.jsonl")
    # every test here logs the same analyst in afresh (six logins in well under a minute); the per-name limit
    # is tested in tests/api/test_auth.py, not here
    settings.accounts.login_rate_limit = "60/minute"
    settings.classify = ClassifySettings(taxonomy=shared_file("tipdm", "taxonomy.xlsx"),
                                         training=shared_file("tipdm", "messages_labelled_sample.xlsx"),
                                         departments=ROOT / "monitor" / "departments.yml")
    _import_week(settings.store.url, root, embedder)
    _log(settings.log_url)
    accounts = AccountStore.open(settings.store.url)
    accounts.add_user(ANALYST, Role.ANALYST, PASSWORD)
    analyst_key = accounts.add_key("report-analyst", Role.ANALYST)
    operator_key = accounts.add_key("report-operator", Role.OPERATOR)
    accounts.close()
    with serve_api(settings) as running:
        yield ReportsApi(running, analyst_key, operator_key)


def analyst_page(browser: Browser, reports: ReportsApi, width: int = 1280, height: int = 900) -> Page:
    """A fresh browser that asked for the report, was shown the login form, and logged in as an analyst."""
    url = f"{reports.api.url}/reports?{QUERY}"
    return logged_in_page(browser, url, ANALYST, PASSWORD, BUILD_MS, width, height, accept_downloads=True)


@pytest.fixture
def page(browser: Browser, reports: ReportsApi) -> Iterator[Page]:
    opened = analyst_page(browser, reports)
    yield opened
    opened.context.close()


def test_only_analysts_and_admins_see_reports(reports: ReportsApi) -> None:
    for path in (f"/reports?{QUERY}", f"/reports/charts/volume.svg?{QUERY}", f"/reports/download.xlsx?{QUERY}"):
        assert reports.get(path).status_code == 401
        refused = reports.get(path, reports.operator_key)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert reports.get(f"/reports/charts/volume.svg?{QUERY}", reports.analyst_key).status_code == 200


def test_the_page_shows_every_section_with_its_charts(page: Page, reports: ReportsApi) -> None:
    page.goto(f"{reports.api.url}/reports?{QUERY}")

    expect(page.get_by_role("heading", level=1)).to_contain_text("舆情分析报告")
    for heading in SECTIONS:
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.locator("table.hot tbody tr").first).to_be_visible()
    expect(page.get_by_text("耕地地力保护补贴什么时候发").first).to_be_visible()  # the knowledge gap the log holds
    images = page.locator("figure.chart img")
    assert images.count() == 5
    for k in range(5):
        images.nth(k).scroll_into_view_if_needed()
        expect(images.nth(k)).to_have_js_property("complete", True)
        assert images.nth(k).evaluate("img => img.naturalWidth") > 300
    page.locator("details.issue summary").first.click()
    expect(page.locator("details.issue table.detail").first).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "reports-full.png"), full_page=True)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "reports.png"))
    assert axe_findings(page) == []


def test_the_period_is_picked_with_the_keyboard(page: Page, reports: ReportsApi) -> None:
    page.goto(f"{reports.api.url}/reports?{QUERY}")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到报告正文")).to_be_focused()
    start = page.get_by_label("开始日期")
    start.focus()
    start.fill("2019-12-02")
    page.get_by_label("结束日期").fill("2019-12-05")
    page.get_by_label("结束日期").press("Enter")

    page.wait_for_url(re.compile(r"from=2019-12-02&to=2019-12-05"))
    expect(page.locator(".topbar .sub")).to_contain_text("2019年12月02日 至 2019年12月05日（4 天）")
    previous = page.get_by_role("link", name=re.compile("上一期"))
    expect(previous).to_have_attribute("href", "/reports?from=2019-11-28&to=2019-12-01")


def test_a_reversed_period_is_explained_on_the_page(page: Page, reports: ReportsApi) -> None:
    page.goto(f"{reports.api.url}/reports?from=2019-12-07&to=2019-12-01")

    expect(page.get_by_role("alert")).to_contain_text("开始日期 2019-12-07 晚于结束日期 2019-12-01")
    response = reports.get("/reports/download.pdf?from=2019-12-07&to=2019-12-01", reports.analyst_key)
    assert response.status_code == 400 and response.json()["error"] == "bad_period"
    assert reports.get(f"/reports/charts/pie.svg?{QUERY}", reports.analyst_key).status_code == 422
    assert reports.get("/reports/download.xlsx?from=2019-12-01", reports.analyst_key).status_code == 400


def test_downloads_give_the_workbook_and_the_pdf(page: Page, reports: ReportsApi) -> None:
    page.goto(f"{reports.api.url}/reports?{QUERY}")
    with page.expect_download() as pending:
        page.get_by_role("link", name="下载 XLSX").click()
    download = pending.value
    assert download.suggested_filename == "舆情报告-20191201-20191207.xlsx"
    book = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert book.sheetnames[:3] == ["概况", "热点问题", "热点问题留言明细"]
    pdf = reports.get(f"/reports/download.pdf?{QUERY}", reports.analyst_key)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and len(pdf.content) > 50_000
    assert load_workbook(io.BytesIO(reports.get(f"/reports/download.xlsx?{QUERY}", reports.analyst_key).content))


@pytest.mark.parametrize(("width", "height"), [(390, 844), (360, 640)])
def test_phone_width_has_no_horizontal_scroll(browser: Browser, reports: ReportsApi, width: int, height: int) -> None:
    phone = analyst_page(browser, reports, width, height)
    try:
        expect(phone.get_by_role("button", name="生成报告")).to_be_visible()
        overflow = phone.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow == 0
        expect(phone.get_by_role("link", name="下载 PDF")).to_be_in_viewport()
        if width == 390:
            phone.screenshot(path=str(SCREENSHOTS / "reports-phone.png"))
    finally:
        phone.context.close()
