"""The knowledge managers' upload (/admin/upload) over the real app and a private copy of the sample knowledge
base: files of every format in one request, a result per file as an event stream, the good ones answerable by
a reader that follows the index, the bad ones reported with the parser's reason; CSRF, roles and size caps."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from functools import cache
from pathlib import Path
from typing import Any

import docx
import httpx
import openpyxl
import pytest

from api.accounts import Role
from api.kb_desk import KnowledgeDesk
from api.settings import AppSettings
from knowledge.document import Document
from knowledge.embedding import Embedder
from knowledge.index import current_generation, read_documents
from knowledge.reader import KnowledgeReader
from knowledge.store import DocumentStore
from knowledge.writer import KnowledgeWriter

from ..conftest import ROOT, copy_sample
from ..knowledge.test_parsers import _pdf_with_text
from .conftest import serve_staff_api, wait_until
from .pages import StaffApi

MANAGER, ANALYST, PASSWORD = "kb-li", "analyst-zhao", "青禾-upload-pass-42"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
INGEST_S = 300.0  # the first upload opens the writer and its model on a busy 2-core machine
NIGHT_MARKET_TITLE = "青禾县夜间集市摊位管理办法"
NIGHT_MARKET_NUMBER = "青政办发〔2026〕21号"
NIGHT_MARKET_QUESTION = "夜间集市的摊位管理费每月多少钱？"
SAMPLE_NOTICE = ROOT / "knowledge" / "sample" / "notice-12345-hotline-2024.md"
REPUBLISHED = SAMPLE_NOTICE.read_bytes().replace(b"id: qh-notice-12345-hotline-2024", b"id: hotline-copy")


@cache
def night_market_docx() -> bytes:
    """A Word policy only this test's knowledge base has: a title, a 文号, a date and three articles (built once:
    the zip records when it was written, and the same file uploaded again must be the same bytes)."""
    word = docx.Document()
    word.add_heading(NIGHT_MARKET_TITLE, level=0)  # Word's Title style
    word.add_paragraph(NIGHT_MARKET_NUMBER)
    word.add_paragraph("第一条 为规范夜间集市经营秩序，方便群众生活，制定本办法。")
    word.add_paragraph("第二条 夜间集市每日18时至23时开放，摊位由县市场监督管理局统一编号。")
    word.add_paragraph("第三条 夜间集市摊位管理费每月120元，按月向县市场监督管理局缴纳。")
    word.add_paragraph("2026年11月20日")
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def uploads(sample_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaffApi]:
    root = tmp_path_factory.mktemp("admin-upload")
    settings = AppSettings()
    settings.upload.dir = root / "uploads"
    # small caps: an oversized request is still sent whole before its 413 is read
    settings.upload.max_file_bytes, settings.upload.max_request_bytes = 100_000, 300_000
    staff = {MANAGER: Role.KB_MANAGER, ANALYST: Role.ANALYST}
    with serve_staff_api(root, sample_template, staff, PASSWORD, settings) as running:
        yield running


def files(*named: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    """Multipart parts of the upload form's ``files`` field."""
    kinds = {".docx": DOCX}
    return [("files", (name, data, kinds.get(Path(name).suffix, "application/octet-stream"))) for name, data in named]


def events(response: httpx.Response) -> list[tuple[str, Any]]:
    """The server-sent events of a finished response, as (event, parsed data)."""
    found, name, data = [], "message", []
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and data:
            found.append((name, json.loads("\n".join(data))))
            name, data = "message", []
    return found


def stream_upload(http: httpx.Client, csrf: str, parts: list[Any]) -> list[tuple[str, Any]]:
    headers = {"Accept": "text/event-stream"}
    with http.stream("POST", "/admin/upload", files=parts, data={"csrf_token": csrf}, headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return events(response)


def by_name(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in results}


def test_upload_streams_a_result_per_file_and_the_good_one_is_answered_within_seconds(
    uploads: StaffApi, embedder: Embedder
) -> None:
    reader = KnowledgeReader(uploads.settings, embedder)
    reader.refresh(strict=True)
    reader.start(0.2)  # as the API's and the action servers' readers follow CURRENT
    http, csrf = uploads.session(MANAGER, INGEST_S)
    try:
        before = reader.answer(NIGHT_MARKET_QUESTION)
        assert not (before.answered and before.citation and before.citation.doc_number == NIGHT_MARKET_NUMBER)

        stream = stream_upload(http, csrf, files(("night-market.docx", night_market_docx()),
                                                 ("broken.docx", b"PK this is not a zip archive")))  # fmt: skip
        finished = time.monotonic()

        kinds = [event for event, _ in stream]
        assert kinds[0] == "start" and kinds[-1] == "summary" and "published" in kinds
        parsed = [data["file"] for event, data in stream if event == "progress" and data["stage"] == "parsed"]
        assert parsed == ["night-market.docx"]  # the broken file never parsed
        results = by_name([data for event, data in stream if event == "result"])
        good, broken = results["night-market.docx"], results["broken.docx"]
        assert (good["status"], good["status_label"]) == ("added", "新增")
        assert [(d["doc_id"], d["title"], d["action"]) for d in good["documents"]] == [
            ("night-market", NIGHT_MARKET_TITLE, "created")
        ]
        assert broken["status"] == "error" and "无法读取 Word 文件" in broken["message"] and not broken["documents"]
        summary = dict(stream)["summary"]
        assert (summary["files"], summary["added"], summary["error"], summary["documents_written"]) == (2, 1, 1, 1)

        assert wait_until(lambda: _cites(reader, NIGHT_MARKET_NUMBER), timeout=10)
        print(f"answerable {time.monotonic() - finished:.2f} s after the upload's last event")
        store = DocumentStore.open(uploads.settings.store.url)
        try:
            doc = store.get("night-market")
            history = store.history("night-market")
        finally:
            store.close()
        assert (doc.title, doc.doc_number, doc.validity.value) == (NIGHT_MARKET_TITLE, NIGHT_MARKET_NUMBER, "未标注")
        assert [(v.action, v.actor) for v in history] == [("created", MANAGER)]
        assert Path(doc.source_path).read_bytes() == night_market_docx()  # the original is kept

        again = http.post("/admin/upload", files=files(("night-market.docx", night_market_docx())),
                          data={"csrf_token": csrf}, headers={"Accept": "application/json"})  # fmt: skip
        assert again.status_code == 200, again.text
        assert [(r["name"], r["status"]) for r in again.json()["files"]] == [("night-market.docx", "unchanged")]
    finally:
        reader.close()
        http.close()


def _cites(reader: KnowledgeReader, doc_number: str) -> bool:
    answer = reader.answer(NIGHT_MARKET_QUESTION)
    return answer.answered and answer.citation is not None and answer.citation.doc_number == doc_number


def _xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["问题", "答案"])
    sheet.append(["夜间集市可以用电吗？", "可以，摊位统一接入集市配电箱，按月计费。"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_every_ingest_format_lands_and_bad_files_lose_nothing_else(uploads: StaffApi) -> None:
    parts = files(
        ("stall-rules.md", "---\nid: stall-rules\ntitle: 青禾县摊位卫生规范\nvalidity: 现行有效\n---\n"
                           "一、卫生要求\n摊主每晚收市后清扫摊位。\n".encode()),
        ("stall-notice.txt", "关于夜间集市试运行的通知\n夜间集市自12月1日起试运行。\n".encode()),
        ("stall-page.html", "<html><head><title>夜间集市停车指引</title></head><body><p>集市东侧设临时停车场。"
                            "</p></body></html>".encode()),
        ("stall-faq.csv", "问题,答案\n集市几点收摊？,晚上23时收摊。\n没有答案的问题？,\n".encode()),
        ("stall-lines.jsonl", json.dumps({"id": "stall-jsonl", "title": "夜间集市投诉渠道",
                                          "text": "对集市经营有意见可拨打12345。"}, ensure_ascii=False).encode()),
        ("stall-power.xlsx", _xlsx()),
        ("stall-fire.pdf", _pdf_with_text(["夜间集市消防安全须知", "每个摊位配备一具灭火器。"])),
        ("hotline-copy.md", REPUBLISHED),  # a sample notice republished under another id
        ("stall-rules.MD", b"---\nid: other\ntitle: x\n---\nx\n"),  # the same name again (a case apart)
        ("empty.txt", b""),
        ("virus.exe", b"MZ\x90\x00"),
        ("bad.jsonl", b"{not json\n"),
    )  # fmt: skip
    http, csrf = uploads.session(MANAGER, INGEST_S)
    with closing(http):
        response = http.post("/admin/upload", files=parts, data={"csrf_token": csrf},
                             headers={"Accept": "application/json"})  # fmt: skip
    assert response.status_code == 200, response.text
    results = by_name(response.json()["files"])
    assert list(results) == [name for _, (name, _, _) in parts]  # one result per file, in upload order
    for name in ("stall-rules.md", "stall-notice.txt", "stall-page.html", "stall-faq.csv", "stall-lines.jsonl",
                 "stall-power.xlsx", "stall-fire.pdf", "hotline-copy.md"):  # fmt: skip
        assert results[name]["status"] == "added" and results[name]["documents"], results[name]
    assert results["stall-faq.csv"]["problems"] == ["第3行: 缺少答案，已跳过"]
    assert "同名" in results["stall-rules.MD"]["message"]
    assert results["empty.txt"]["message"] == "文件为空"
    assert "不支持的文件类型「.exe」" in results["virus.exe"]["message"]
    assert results["bad.jsonl"]["status"] == "error" and results["bad.jsonl"]["message"]
    assert {r["status"] for n, r in results.items() if n in ("stall-rules.MD", "empty.txt", "virus.exe")} == {"error"}
    assert not list(uploads.settings.upload.dir.rglob("virus.exe"))  # refused files are not even kept
    summary = response.json()["summary"]
    [twin] = results["hotline-copy.md"]["duplicates"]
    assert "内容重复" in twin and "hotline-copy" in twin and "qh-notice-12345-hotline-2024" in twin
    assert (summary["files"], summary["added"], summary["error"]) == (12, 8, 4)
    store = DocumentStore.open(uploads.settings.store.url)
    try:
        assert store.get("stall-rules").title == "青禾县摊位卫生规范"
        assert store.find("other") is None
    finally:
        store.close()


def test_the_page_without_javascript_posts_and_shows_the_results(uploads: StaffApi) -> None:
    http, csrf = uploads.session(MANAGER, INGEST_S)
    with closing(http):
        page = http.get("/admin/upload", headers={"Accept": "text/html"})
        assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text and csrf in page.text
        text = "关于夜间集市垃圾分类的通知\n摊主应将垃圾分类投放。\n".encode()
        done = http.post("/admin/upload", files=files(("stall-waste.txt", text)), data={"csrf_token": csrf},
                         headers={"Accept": "text/html"})  # fmt: skip
    assert done.status_code == 200 and done.headers["content-type"].startswith("text/html")
    assert "导入完成：共 1 个文件，新增 1" in done.text
    assert 'href="/admin/documents/stall-waste"' in done.text


def test_without_the_csrf_token_nothing_is_kept(uploads: StaffApi) -> None:
    http, _ = uploads.session(MANAGER, INGEST_S)
    with closing(http):
        refused = http.post("/admin/upload", files=files(("csrf-less.txt", "无令牌的通知\n内容。\n".encode())))
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_refused"
    assert not list(uploads.settings.upload.dir.rglob("csrf-less.txt"))
    store = DocumentStore.open(uploads.settings.store.url)
    try:
        assert store.find("csrf-less") is None
    finally:
        store.close()


def test_only_knowledge_managers_and_admins_may_upload(uploads: StaffApi) -> None:
    part = files(("analyst.txt", "分析员的通知\n内容。\n".encode()))
    with httpx.Client(base_url=uploads.url, timeout=INGEST_S) as anonymous:
        assert anonymous.post("/admin/upload", files=part).status_code == 401
        assert anonymous.get("/admin/upload").status_code == 401
        keyed = anonymous.post("/admin/upload", files=part, headers={"X-API-Key": uploads.analyst_key})
        assert keyed.status_code == 403 and keyed.json()["error"] == "forbidden"
    http, csrf = uploads.session(ANALYST, INGEST_S)
    with closing(http):
        assert http.get("/admin/upload").status_code == 403
        assert http.post("/admin/upload", files=part, data={"csrf_token": csrf}).status_code == 403


def test_a_file_or_a_request_over_its_cap_is_refused_with_413(uploads: StaffApi) -> None:
    http, csrf = uploads.session(MANAGER, INGEST_S)
    with closing(http):
        parts = files(("ok.txt", "通知\n内容。\n".encode()), ("huge.txt", b"x" * 150_000))
        large = http.post(
            "/admin/upload", files=parts, data={"csrf_token": csrf}, headers={"Accept": "application/json"}
        )
        assert large.status_code == 413 and large.json()["error"] == "file_too_large"
        assert "huge.txt" in large.json()["message"]
        many = files(*[(f"part-{i}.txt", b"y" * 90_000) for i in range(4)])  # each under the file cap
        whole = http.post("/admin/upload", files=many, data={"csrf_token": csrf})
        assert whole.status_code == 413 and whole.json()["error"] == "body_too_large"
        empty = http.post("/admin/upload", data={"csrf_token": csrf})
        assert empty.status_code == 400 and empty.json()["error"] == "no_files"
    assert not list(uploads.settings.upload.dir.rglob("ok.txt"))  # a refused request keeps nothing of it


def test_an_ingest_that_fails_as_a_whole_is_told_in_every_answer_form(
    uploads: StaffApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(uploads.api.app.state.kb_desk, "ingest", broken)
    http, csrf = uploads.session(MANAGER, INGEST_S)
    with closing(http):
        part = files(("stall-power.txt", "关于夜间集市用电的通知\n摊位统一接电。\n".encode()))

        def upload(accept: str) -> httpx.Response:
            return http.post("/admin/upload", files=part, data={"csrf_token": csrf}, headers={"Accept": accept})

        answered, shown = upload("application/json"), upload("text/html")
        streamed = stream_upload(http, csrf, part)
    told = "导入中断（服务内部错误），已写入的文档不受影响，请稍后重试。"
    assert answered.status_code == 500 and answered.json() == {"error": "ingest_failed", "message": told}
    assert streamed[-1] == ("error", {"error": "ingest_failed", "message": told})
    assert shown.status_code == 500 and f"导入失败：{told}" in shown.text and "disk full" not in shown.text


def test_two_desks_writing_at_once_both_land_in_the_published_index(
    sample_template: Path, tmp_path: Path, embedder: Embedder
) -> None:
    """Two API processes' desks (each its own writer) saving at the same moment: the writer's lock puts one
    after the other, and the last generation carries both documents."""
    settings = copy_sample(sample_template, tmp_path / "kb")

    def writer() -> KnowledgeWriter:
        return KnowledgeWriter(settings, DocumentStore.open(settings.store.url), embedder)

    stores = [DocumentStore.open(settings.store.url) for _ in range(2)]
    desks = [KnowledgeDesk(settings, store, writer) for store in stores]
    places = ["游泳馆", "图书馆"]
    docs = [Document(id=f"desk-{i}", title=f"青禾县{place}开放规定", body=f"一、开放时间\n{place}每周开放{i + 5}天。")
            for i, place in enumerate(places)]  # fmt: skip
    saving = [
        threading.Thread(target=d.upsert, args=(doc, "同时保存", MANAGER)) for d, doc in zip(desks, docs, strict=True)
    ]
    try:
        for thread in saving:
            thread.start()
        for thread in saving:
            thread.join(timeout=INGEST_S)
        generation = current_generation(settings.index.dir)
        assert generation is not None
        published = read_documents(generation) or {}
        assert {"desk-0", "desk-1"} <= set(published)
        assert {"desk-0", "desk-1"} <= set(desks[0].documents())
        assert [v.actor for v in desks[1].audit(limit=2)] == [MANAGER, MANAGER]
        reader = KnowledgeReader.open(settings, embedder)
        for i, place in enumerate(places):
            assert reader.search(f"{place}每周开放几天", 1)[0].doc_id == f"desk-{i}"
    finally:
        for desk, store in zip(desks, stores, strict=True):
            desk.close()
            store.close()
