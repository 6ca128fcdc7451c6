"""The opinion report over real messages (the first half of December 2019, with and without replies), log turns
and work orders the test writes: its numbers, its actions and every format a staff member opens."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from knowledge.embedding import Embedder
from monitor.classify import ClassifySettings
from monitor.cli import main
from monitor.exports import parse_time, read_rows
from monitor.log import ConversationLog, Turn
from monitor.messages import Message, MessageStore, import_messages
from monitor.report import Report, build_report
from monitor.report_formats import render_html, render_json, render_pdf, render_xlsx
from monitor.report_sources import CHINA, BadPeriod, Period, ReportSources, report_classifier
from monitor.settings import MonitorSettings
from monitor.workorders import WorkOrderRequest, WorkOrderStore

from ..conftest import shared_file

ROOT = Path(__file__).resolve().parents[2]
PERIOD = Period(date(2019, 12, 1), date(2019, 12, 15))
SECTIONS = [
    "一、概况",
    "二、热点问题",
    "三、新增与上升话题",
    "四、未解答问题与知识缺口",
    "五、风险提示",
    "六、答复质量",
    "七、处置建议",
]
GAP_QUESTIONS = ["耕地地力保护补贴什么时候发放", "今年的耕地地力补贴哪天到账", "耕地地力保护补贴何时发到卡上"]
HEADER = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数", "反对数"]


def china(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A China-local wall time as the aware UTC time the log and work orders store."""
    return datetime(y, mo, d, h, mi, tzinfo=CHINA).astimezone(UTC)


def write_slice(source: Path, target: Path, first: datetime, end: datetime, replies: bool = False) -> int:
    """The real rows with first <= 留言时间 < end, as a CSV of the same columns."""
    _, rows = read_rows(source)
    columns = HEADER + (["答复意见", "答复时间"] if replies else [])
    written = 0
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for _, row in rows:
            at = parse_time(row["留言时间"])
            if first <= at < end:
                values = [row.get(c) for c in columns]
                values[3] = at.strftime("%Y/%m/%d %H:%M:%S")
                if replies and row.get("答复时间"):
                    values[-1] = parse_time(row["答复时间"]).strftime("%Y/%m/%d %H:%M:%S")
                writer.writerow(["" if v is None else v for v in values])
                written += 1
    return written


@dataclass(frozen=True)
class Written:
    """What the test put into the sources, to compare the report with."""

    store_url: str
    log_url: str
    messages: int
    replied: int


def _log_turns(log: ConversationLog) -> None:
    def turn(channel: str, when: datetime, question: str, kind: str, confidence: float = 0.8) -> Turn:
        return Turn(
            channel=channel,
            user_hash=f"u-{channel}-{question[:4]}",
            question=question,
            answer="……" if kind == "answer" else "",
            reply_kind=kind,
            answered=kind == "answer",
            confidence=confidence,
            at=when,
        )

    for k in range(6):
        log.write(turn("web", china(2019, 12, 2 + k, 10), f"创业担保贷款额度是多少{k}", "answer"))
    for k, question in enumerate(GAP_QUESTIONS):
        log.write(turn("web", china(2019, 12, 9 + k, 15), question, "no_answer", 0.1))
    log.write(turn("wechat", china(2019, 12, 4, 9), "公积金可以提取来付房租吗", "answer"))
    log.write(turn("wechat", china(2019, 12, 15, 23, 30), "社保卡丢了怎么补办", "answer"))  # last evening: counted
    log.write(turn("wechat", china(2019, 12, 16, 0, 30), "医保报销比例是多少", "no_answer"))  # next day: not counted
    log.write(turn("wechat", china(2019, 11, 30, 23, 50), "养老保险怎么交", "answer"))  # before: not counted
    log.write(turn("web", china(2019, 12, 5, 11), "", "feedback"))  # a button press: no question


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Written:
    root = tmp_path_factory.mktemp("report")
    store_url, log_url = f"sqlite:///{root}/store.db", f"sqlite:///{root}/log.db"
    messages_csv, replies_csv = root / "问政平台.csv", root / "部门答复.csv"
    end = PERIOD.end
    write_slice(shared_file("tipdm", "messages_2019.xlsx"), messages_csv, PERIOD.start, end)
    replied = write_slice(shared_file("tipdm", "messages_with_replies.xlsx"), replies_csv, PERIOD.start, end, True)
    store = MessageStore.open(store_url)
    for path in (messages_csv, replies_csv):
        report = import_messages(store, path, embedder)
        assert not [b for b in report.bad_rows if b.skipped], report.bad_rows
    stored = store.count()
    store.close()
    log = ConversationLog.open(log_url)
    _log_turns(log)
    log.close()
    for when, what, category in (
        (china(2019, 12, 3, 9), "小区门口垃圾清运不及时", "城乡建设/城市建设和市政管理"),
        (china(2019, 12, 14, 16), "反映学校周边交通拥堵", ""),
        (china(2019, 12, 20, 9), "期外的工单", ""),
    ):
        orders = WorkOrderStore.open(store_url)
        orders.clock = lambda when=when: when
        orders.create(WorkOrderRequest.of("complaint", sender_id=what, what=what, where="丽发新城", category=category))
        orders.close()
    return Written(store_url, log_url, stored, replied)


@pytest.fixture(scope="module")
def sources(written: Written, embedder: Embedder) -> Iterator[ReportSources]:
    store = MessageStore.open(written.store_url)
    log = ConversationLog.open(written.log_url)
    orders = WorkOrderStore.open(written.store_url)
    classify = ClassifySettings(
        taxonomy=shared_file("tipdm", "taxonomy.xlsx"),
        training=shared_file("tipdm", "messages_labelled_sample.xlsx"),
        departments=ROOT / "monitor" / "departments.yml",
    )
    yield ReportSources(
        messages=store,
        log=log.engine,
        work_orders=orders.engine,
        classifier=report_classifier(classify),
        embedder=embedder,
    )
    store.close()
    log.close()
    orders.close()


@pytest.fixture(scope="module")
def report(sources: ReportSources) -> Report:
    stages: list[str] = []
    built = build_report(sources, PERIOD, stages.append)
    assert stages[0] == "读取留言、对话与工单" and stages[-1] == "处置建议" and len(stages) == 8
    return built


def test_overview_counts_every_channel_and_day_in_china_time(report: Report, written: Written) -> None:
    o = report.overview
    assert o.messages == written.messages and written.replied > 10
    channels = dict(o.channels)
    assert channels["对话（网页）"] == 9 and channels["对话（微信）"] == 2  # 16 Dec 00:30 and 30 Nov 23:50 are outside
    assert channels["工单"] == 2 and o.work_orders == 2
    assert channels["问政留言（问政平台）"] + channels["问政留言（部门答复）"] == written.messages
    assert (o.answered, o.unanswered) == (8, 3) and o.answer_rate == pytest.approx(8 / 11)
    assert dict((c, (a, u)) for c, a, u in o.answer_by_channel) == {"网页": (6, 3), "微信": (2, 0)}
    assert len(o.days) == 15 and sum(d.messages for d in o.days) == written.messages
    assert next(d for d in o.days if d.day == date(2019, 12, 15)).questions == 1
    assert sum(n for _, n in o.categories) == written.messages + 2 and "未分类" not in dict(o.categories)


def test_hot_issues_carry_the_challenge_fields_and_their_own_messages(report: Report, sources: ReportSources) -> None:
    assert sources.messages is not None
    messages: list[Message] = sources.messages.load(PERIOD.start, PERIOD.end)[0]
    by_id = {m.external_id: m for m in messages}
    entries = json.loads(render_json(report))["hot_issues"]
    assert len(entries) >= 5 and [e["rank"] for e in entries] == list(range(1, len(entries) + 1))
    for entry, issue in zip(entries, report.hot_issues, strict=True):
        assert {"rank", "issue_id", "heat", "time_range", "place_or_group", "description", "message_ids"} <= set(entry)
        assert entry["department"] and entry["message_ids"] == [m.message_id for m in issue.messages]
        for message_id in entry["message_ids"]:
            message = by_id[message_id]
            assert issue.place_or_group in message.text and issue.start <= message.at <= issue.end


def test_actions_forward_hot_issues_and_ask_for_the_missing_interpretation(report: Report) -> None:
    forwards = [a for a in report.actions if a.kind == "forward"]
    top = report.hot_issues[0]
    route = report.route_of(top.issue_id)
    assert route is not None and route.department
    assert f"将问题 {top.issue_id}" in forwards[0].text and forwards[0].text.endswith(f"转交{route.department}办理")
    assert report.gaps is not None and report.gaps.questions == 3
    gap = next(a for a in report.actions if a.kind == "interpret")
    assert "耕地" in gap.text and "补充解读" in gap.text and "本期 3 次" in gap.basis
    assert [a.priority for a in report.actions] == sorted(a.priority for a in report.actions)


def test_reply_quality_judges_the_replied_messages(report: Report, written: Written) -> None:
    q = report.replies
    assert q.replies == written.replied and q.mean_working_days is not None
    assert q.departments and len(q.weakest) == 10 and q.weakest[0].score <= q.weakest[-1].score


def test_html_shows_the_sections_in_order_with_charts_embedded(report: Report) -> None:
    html = render_html(report)
    positions = [html.index(f">{heading}</h2>") for heading in SECTIONS]
    assert positions == sorted(positions)
    assert html.count('src="data:image/png;base64,') == 5
    assert report.hot_issues[0].issue_id in html and "耕地地力保护补贴" in html
    assert "<caption>热点问题表</caption>" in html and report.hot_issues[0].place_or_group in html


def test_pdf_has_every_section_in_a_cjk_font(report: Report, tmp_path: Path) -> None:
    pdf = render_pdf(report)
    (ROOT / "var" / "reports").mkdir(parents=True, exist_ok=True)
    (ROOT / "var" / "reports" / "test-report.pdf").write_bytes(pdf)  # kept to look at (pdftoppm)
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() or "" for page in reader.pages)
    compact = re.sub(r"\s+", "", text)
    assert len(reader.pages) >= 3 and all(heading in compact for heading in SECTIONS)
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in (page["/Resources"].get("/Font") or {}).values()
    }
    assert any("Noto-Sans-CJK-SC" in name for name in fonts), fonts


def test_xlsx_has_a_sheet_per_section_and_the_two_challenge_tables(report: Report) -> None:
    book = load_workbook(io.BytesIO(render_xlsx(report)))
    assert book.sheetnames == [
        "概况",
        "热点问题",
        "热点问题留言明细",
        "新增与上升话题",
        "未解答问题与知识缺口",
        "风险提示",
        "答复质量",
        "处置建议",
    ]
    hot = list(book["热点问题"].iter_rows(values_only=True))
    assert list(hot[0][:6]) == ["热度排名", "问题ID", "热度指数", "时间范围", "地点/人群", "问题描述"]
    assert [row[0] for row in hot[1:]] == [i.rank for i in report.hot_issues]
    detail = list(book["热点问题留言明细"].iter_rows(values_only=True))
    assert list(detail[0]) == ["问题ID", "留言编号", "留言时间", "留言主题"]
    assert len(detail) - 1 == sum(len(i.messages) for i in report.hot_issues)
    first = report.hot_issues[0].messages[0]
    assert detail[1] == (first.issue_id, first.message_id, first.at, first.title)
    assert book["概况"]._images, "the charts are on the overview sheet"


def _cli_settings(written: Written, tmp_path: Path) -> MonitorSettings:
    settings = MonitorSettings()
    settings.store.url = written.store_url
    settings.conversation_log.url = written.log_url
    settings.index.dir = tmp_path / "no-index"
    settings.classify = ClassifySettings(
        taxonomy=shared_file("tipdm", "taxonomy.xlsx"),
        training=shared_file("tipdm", "messages_labelled_sample.xlsx"),
        departments=ROOT / "monitor" / "departments.yml",
    )
    return settings


def test_cli_writes_the_formats_asked_for_and_shows_its_stages(
    written: Written, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["report", "--from", "2019-12-01", "--to", "2019-12-15", "--format", "json,xlsx", "--out", str(out)]

    assert main(argv, _cli_settings(written, tmp_path)) == 0

    captured = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == [f"舆情报告-20191201-20191215.{ext}" for ext in ("json", "xlsx")]
    assert "热点问题" in captured.err and "问政留言" in captured.err  # the stages and the summary on stderr
    data = json.loads((out / "舆情报告-20191201-20191215.json").read_text("utf-8"))
    assert data["period"] == {"from": "2019-12-01", "to": "2019-12-15"} and data["hot_issues"]
    assert data["overview"]["work_orders"] == 2


@pytest.mark.parametrize(
    ("first", "last", "reason"),
    [
        ("2019-12-15", "2019-12-01", "晚于"),
        ("2019-13-01", "2019-12-31", "YYYY-MM-DD"),
        ("2018-01-01", "2019-12-31", "最长"),
    ],
)
def test_a_bad_period_is_refused_with_its_reason(
    first: str, last: str, reason: str, written: Written, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(BadPeriod, match=reason):
        Period.parse(first, last)
    argv = ["report", "--from", first, "--to", last, "--out", str(tmp_path)]
    assert main(argv, _cli_settings(written, tmp_path)) == 2
    assert reason in capsys.readouterr().err and not list(tmp_path.glob("*.html"))


def test_an_unknown_format_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--from", "2019-12-01", "--to", "2019-12-02", "--format", "docx"])
    assert "docx" in capsys.readouterr().err


def test_a_period_without_records_says_so_in_every_section(sources: ReportSources) -> None:
    empty = build_report(sources, Period(date(2016, 3, 1), date(2016, 3, 7)))
    assert empty.overview.messages == 0 and empty.hot_issues == () and empty.overview.answer_rate is None
    html = render_html(empty)
    assert "本期没有形成热点问题" in html and "本期没有突增话题" in html and "没有附带部门答复" in html
    book = load_workbook(io.BytesIO(render_xlsx(empty)))
    assert list(book["热点问题"].iter_rows(values_only=True))[1:] == []


def test_the_report_page_desk_reuses_a_build_and_closes_its_records_with_the_app(
    written: Written, tmp_path: Path
) -> None:
    from api.reports import ReportDesk
    from api.settings import AppSettings

    settings = AppSettings()
    settings.store.url, settings.conversation_log.url = written.store_url, written.log_url
    settings.index.dir = tmp_path / "no-index"  # the gaps are listed without closest documents
    settings.classify = ClassifySettings(
        taxonomy=shared_file("tipdm", "taxonomy.xlsx"),
        training=shared_file("tipdm", "messages_labelled_sample.xlsx"),
        departments=ROOT / "monitor" / "departments.yml",
    )
    desk = ReportDesk(settings)
    built = desk.report(PERIOD)
    assert desk.report(PERIOD) is built  # the records did not change: the page, charts and downloads share it
    sources = desk.sources
    assert sources is not None and sources.messages is not None
    engines = [sources.messages.engine, sources.log, sources.work_orders]
    assert all(e is not None and e.pool.checkedin() for e in engines)  # open connections, kept between requests
    desk.close()
    assert desk.sources is None and not desk.cache
    assert all(e is not None and e.pool.checkedin() == 0 for e in engines)
