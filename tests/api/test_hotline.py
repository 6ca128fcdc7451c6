"""The hotline routes over the real app: a sample knowledge base, the real model and classifier, SQLite calls.

Served by uvicorn on 127.0.0.1 (a loopback client is the operator while POLICY_HOTLINE__API_KEY is empty);
the key and role checks use a client with a public address through Starlette's TestClient.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import openpyxl
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.accounts import AccountStore, Role
from api.app import create_app

from ..hotline.test_questions import THREE_QUESTIONS
from .conftest import TOWN, RunningApi, quiet, serve_api

PHONE_CALL = (
    "坐席：您好，12345热线，请问有什么可以帮您？\n市民：我想问一下低保怎么申请。\n"
    "坐席：请问您的联系电话？\n市民：我电话是幺三八零零一二三四五六，我叫王小明。"
)
COMPLAINT = (
    "坐席：您好，请问有什么可以帮您？\n来电人：我要投诉。\n坐席：请讲。\n"
    "来电人：我是青禾县柳溪镇幸福小区的，我们小区物业乱收费，每个月多收五十块钱，你们管不管？"
)


def post(api: RunningApi, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{api.url}{path}", json=body, timeout=60, **kwargs)


def assist(api: RunningApi, transcript: Any) -> dict[str, Any]:
    response = post(api, "/api/hotline/assist", {"transcript": transcript})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# -- one call --------------------------------------------------------------------------------------------


def test_a_three_question_call_gets_answers_sources_classification_and_a_draft(hotline_api: RunningApi) -> None:
    result = assist(hotline_api, THREE_QUESTIONS)
    questions = result["questions"]
    assert [q["question"] for q in questions][2] == "青禾县创业担保贷款最高能贷多少？"
    assert all(q["answered"] and q["citations"] for q in questions)
    loan = questions[2]
    assert "30万元" in loan["answer"] and loan["text"] == loan["answer"]
    citation = loan["citations"][0]
    assert "创业担保贷款" in citation["title"] and citation["validity"] == "现行有效" and not citation["retired"]
    assert {"doc_number", "issuer", "date", "url", "warning"} <= set(citation)
    assert 0.4 <= loan["confidence"] <= 1
    assert result["request_type"] == "咨询"
    order = result["work_order"]
    assert order["诉求类型"] == "咨询" and order["地点"] == "青禾县" and order["是否需要转办"] is False
    assert "30万元" in order["已答复内容"]
    assert [t["label"] for t in result["turns"]][:2] == ["坐席", "来电人"]


def test_an_unanswerable_question_says_so(hotline_api: RunningApi) -> None:
    result = assist(hotline_api, "坐席：您好，请问有什么可以帮您？\n市民：请问西红柿炒鸡蛋先放鸡蛋还是先放西红柿？")
    (question,) = result["questions"]
    assert question["answered"] is False and question["answer"] == "" and question["citations"] == []
    assert "没有找到" in question["text"]
    assert result["work_order"]["是否需要转办"] is True


@pytest.mark.parametrize(
    "transcript",
    [
        pytest.param("您好请问有什么可以帮您我想问一下创业担保贷款最高能贷多少", id="unpunctuated-asr"),
        pytest.param(
            "您好，12345热线，请问有什么可以帮您？\n我想问一下创业担保贷款最高能贷多少？\n最高三十万元。",
            id="unlabelled-lines",
        ),
        pytest.param(
            {
                "sentence_info": [
                    {"text": "您好，12345热线，请问有什么可以帮您？", "start": 0, "end": 2000, "spk": 0},
                    {"text": "我想问一下创业担保贷款最高能贷多少？", "start": 2100, "end": 5000, "spk": 1},
                ]
            },
            id="funasr",
        ),
        pytest.param(
            json.dumps({"sentence_info": [{"text": "我想问一下创业担保贷款最高能贷多少？", "spk": 1}]}),
            id="funasr-as-a-string",
        ),
        pytest.param(
            [
                {"mode": "2pass-offline", "text": "您好，请问有什么可以帮您？", "is_final": False},
                {"mode": "2pass-offline", "text": "我想问一下创业担保贷款最高能贷多少？", "is_final": True},
            ],
            id="funasr-stream",
        ),
        pytest.param(
            [
                {"speaker": "A", "text": "您好，请问有什么可以帮您？", "start_ms": 0, "end_ms": 1500},
                {"speaker": "B", "text": "创业担保贷款最高能贷多少？", "start_ms": 1600, "end_ms": 4000},
            ],
            id="segments",
        ),
    ],
)
def test_every_input_style_is_assisted(hotline_api: RunningApi, transcript: Any) -> None:
    result = assist(hotline_api, transcript)
    loan = [q for q in result["questions"] if "创业担保贷款" in q["question"]]
    assert loan and loan[0]["answered"] and "创业担保贷款" in loan[0]["citations"][0]["title"]


def test_a_complaint_is_routed_by_the_departments_that_answered_similar_past_cases(hotline_api: RunningApi) -> None:
    result = assist(hotline_api, COMPLAINT)
    assert result["request_type"] == "投诉" and result["work_order"]["是否需要转办"] is True
    cases = result["similar_cases"]
    assert len(cases) == 3 and {c["message_id"] for c in cases} == {"c1", "c2", "c3"}
    assert all(c["department"] == TOWN and c["date"] == "2026-10-09" and c["gist"] for c in cases)
    assert result["department"] == TOWN and result["department_basis"] == "similar_cases"
    assert result["category_department"] != TOWN  # the table alone would have sent it elsewhere
    assert result["work_order"]["建议承办单位"] == TOWN


def test_a_phone_in_chinese_numerals_reaches_the_operator_and_no_log(
    hotline_api: RunningApi, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        result = assist(hotline_api, PHONE_CALL)
        call = post(hotline_api, "/api/hotline/calls").json()["call_id"]
        for line in PHONE_CALL.splitlines():
            post(hotline_api, f"/api/hotline/calls/{call}/segments", {"transcript": line}).raise_for_status()
        live = httpx.get(f"{hotline_api.url}/api/hotline/calls/{call}", timeout=30).json()
    for order in (result["work_order"], live["result"]["work_order"]):
        assert order["联系电话"] == "13800123456" and order["来电人"] == "王小明"
    assert "13800123456" not in caplog.text and "幺三八零零" not in caplog.text
    assert "13800123456" not in json.dumps(result["turns"], ensure_ascii=False)
    database = hotline_api.settings.store.url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        stored = " ".join(str(v) for row in db.execute("SELECT * FROM hotline_call_segments") for v in row)
        (phone, kept) = db.execute("SELECT phone, result FROM hotline_calls WHERE id = ?", (call,)).fetchone()
    assert "幺三八零零" not in stored and "13800123456" not in stored and "138****3456" in stored
    assert phone == "13800123456"  # the draft's callback number, the one exception
    assert "13800123456" not in kept and "138****3456" in kept


# -- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"transcript": ""}, 400, "empty_transcript"),
        ({"transcript": "  \n\t "}, 400, "empty_transcript"),
        ({"transcript": "嗯。啊。"}, 400, "empty_transcript"),
        ({"transcript": "市民：" + "低保怎么申请" * 20_000}, 422, "transcript_too_large"),  # its declared maxLength
        ({"transcript": "市民：低保\ufffd怎么申请"}, 415, "binary_transcript"),  # what a binary file decodes to
        ({"transcript": []}, 400, "empty_transcript"),
        ({"transcript": "!!! ..."}, 400, "empty_transcript"),  # no letter, digit or Chinese character
        ({"transcript": [{"speaker": "A", "text": "低保怎么申请", "start_ms": "0"}]}, 422, "malformed_transcript"),
        ({"transcript": {"sentence_info": [{"text": "低保怎么申请", "spk": True}]}}, 422, "malformed_transcript"),
        ({"transcript": "市民：低保\x00\x01\x02\x03怎么申请"}, 415, "binary_transcript"),
        ({"transcript": "市民：低保\x1b怎么申请？"}, 422, "control_characters"),
        ({"transcript": {"words": ["低保"]}}, 422, "malformed_transcript"),
        ({"transcript": 42}, 422, "invalid_request"),
        ({"transcript": None}, 422, "invalid_request"),
        ({"text": "低保怎么申请"}, 422, "invalid_request"),
    ],
)
def test_bad_transcripts_get_a_clear_error(hotline_api: RunningApi, body: Any, status: int, code: str) -> None:
    response = post(hotline_api, "/api/hotline/assist", body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code and response.json()["message"]
    assert "低保" not in response.json()["message"]  # never echoes the call


def test_the_hotline_body_cap_fits_a_whole_call_and_the_edge_keeps_its_own(hotline_api: RunningApi) -> None:
    call = "市民：" + "我想问一下低保怎么申请" * 4000  # ~130 KB of UTF-8 (unpunctuated ASR): over the edge's 64 KiB
    assert post(hotline_api, "/api/hotline/assist", {"transcript": call}).status_code == 200
    huge = post(hotline_api, "/api/hotline/assist", {"transcript": "a" * 1_300_000})
    assert huge.status_code == 413 and huge.json()["error"] == "body_too_large"
    chat = post(hotline_api, "/api/chat", {"session_id": "s1", "text": "低" * 30_000})
    assert chat.status_code == 413 and chat.json()["error"] == "body_too_large"


# -- live calls ------------------------------------------------------------------------------------------


def _read_events(url: str, events: queue.Queue[tuple[str, dict[str, Any]]]) -> None:
    with httpx.stream("GET", url, timeout=httpx.Timeout(30, read=30)) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        name, data = "", ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data += line.split(":", 1)[1].strip()
            elif not line and name:
                events.put((name, json.loads(data)))
                if name == "closed":
                    return
                name, data = "", ""


def test_a_live_call_pushes_suggestions_as_segments_arrive_and_closing_finalises_the_draft(
    hotline_api: RunningApi,
) -> None:
    created = post(hotline_api, "/api/hotline/calls")
    assert created.status_code == 201 and created.json()["status"] == "open"
    call = created.json()["call_id"]
    events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
    reader = threading.Thread(
        target=_read_events, args=(f"{hotline_api.url}/api/hotline/calls/{call}/events", events), daemon=True
    )
    reader.start()
    lines = THREE_QUESTIONS.splitlines()
    first = post(hotline_api, f"/api/hotline/calls/{call}/segments", {"transcript": "\n".join(lines[:2])}).json()
    assert first["accepted"] == 2 and len(first["result"]["questions"]) == 1
    name, pushed = events.get(timeout=20)
    assert name == "suggestions" and len(pushed["result"]["questions"]) == 1
    segments = [{"speaker": line[:2], "text": line[3:]} for line in lines[2:]]  # another input style, same call
    post(hotline_api, f"/api/hotline/calls/{call}/segments", {"transcript": segments}).raise_for_status()
    while len(pushed["result"]["questions"]) < 3:
        name, pushed = events.get(timeout=20)
    assert [q["question"] for q in pushed["result"]["questions"]][2] == "青禾县创业担保贷款最高能贷多少？"
    closed = post(hotline_api, f"/api/hotline/calls/{call}/close")
    assert closed.json()["status"] == "closed" and closed.json()["result"]["work_order"]["诉求摘要"]
    while name != "closed":
        name, pushed = events.get(timeout=20)
    assert pushed["status"] == "closed" and pushed["revision"] == closed.json()["revision"]
    reader.join(timeout=10)
    assert not reader.is_alive()  # the stream ended with the call
    late = post(hotline_api, f"/api/hotline/calls/{call}/segments", {"transcript": "市民：还有一个问题"})
    assert late.status_code == 409 and late.json()["error"] == "call_closed"
    assert post(hotline_api, f"/api/hotline/calls/{call}/close").status_code == 200  # idempotent


def test_a_call_is_shared_by_api_processes(hotline_api: RunningApi) -> None:
    """Another app over the same database (another worker of the deployment) serves the same call."""
    with serve_api(quiet(hotline_api.settings)) as other:
        call = post(hotline_api, "/api/hotline/calls").json()["call_id"]
        post(other, f"/api/hotline/calls/{call}/segments", {"transcript": "市民：低保怎么申请？"}).raise_for_status()
        seen = httpx.get(f"{hotline_api.url}/api/hotline/calls/{call}", timeout=30).json()
    assert seen["revision"] == 1 and "低保" in seen["result"]["questions"][0]["question"]


def test_unknown_calls_are_404(hotline_api: RunningApi) -> None:
    for path in ("/api/hotline/calls/" + "c" * 32 + "/segments", "/api/hotline/calls/" + "a" * 32 + "/close"):
        response = post(hotline_api, path, {"transcript": "市民：低保怎么申请？"})
        assert response.status_code == 404 and response.json()["error"] == "call_not_found"
    not_an_id = post(hotline_api, "/api/hotline/calls/nope/segments", {"transcript": "市民：低保怎么申请？"})
    assert not_an_id.status_code == 422  # the schema says what a call id looks like
    assert httpx.get(f"{hotline_api.url}/api/hotline/calls/{'b' * 32}/events").status_code == 404


def test_funasr_online_partials_are_not_counted_twice(hotline_api: RunningApi) -> None:
    call = post(hotline_api, "/api/hotline/calls").json()["call_id"]
    partial = {"mode": "2pass-online", "text": "我想问一下创业担", "is_final": False}
    final = {"mode": "2pass-offline", "text": "我想问一下创业担保贷款最高能贷多少？", "is_final": True}
    skipped = post(hotline_api, f"/api/hotline/calls/{call}/segments", {"transcript": partial}).json()
    assert skipped["accepted"] == 0 and skipped["result"] is None
    filler = post(hotline_api, f"/api/hotline/calls/{call}/segments", {"transcript": "嗯。"}).json()
    assert filler["accepted"] == 0  # a live call's "嗯" holds nothing, and is no error
    blank = post(hotline_api, f"/api/hotline/calls/{call}/segments", {"transcript": "  "})
    assert blank.status_code == 400 and blank.json()["error"] == "empty_transcript"
    done = post(hotline_api, f"/api/hotline/calls/{call}/segments", {"transcript": final}).json()
    assert done["accepted"] == 1 and [q["question"] for q in done["result"]["questions"]] == [
        "创业担保贷款最高能贷多少？"
    ]


# -- work orders -----------------------------------------------------------------------------------------


def test_drafts_become_work_orders_once_per_call_and_are_listed_filtered_and_exported(
    hotline_api: RunningApi,
) -> None:
    call = post(hotline_api, "/api/hotline/calls").json()["call_id"]
    post(hotline_api, f"/api/hotline/calls/{call}/segments", {"transcript": PHONE_CALL}).raise_for_status()
    draft = post(hotline_api, f"/api/hotline/calls/{call}/close").json()["result"]["work_order"]
    draft["诉求摘要"] = "来电人咨询低保申请条件和材料。"  # the operator's edit
    draft["联系电话"] = "138****3456"  # as a masked screen would show it: the call's number is kept
    saved = post(hotline_api, "/api/hotline/workorders", {"call_id": call, "work_order": draft})
    assert saved.status_code == 201, saved.text
    order = saved.json()
    assert order["number"].startswith("GD") and order["status"] == "open" and order["kind"] == "hotline"
    assert order["work_order"]["联系电话"] == "13800123456" and order["work_order"]["诉求摘要"].startswith("来电人咨询")
    again = post(hotline_api, "/api/hotline/workorders", {"call_id": call, "work_order": draft})
    assert again.status_code == 200 and again.json()["number"] == order["number"] and not again.json()["created"]
    assert httpx.get(f"{hotline_api.url}/api/hotline/calls/{call}").json()["work_order"] == order["number"]

    complaint = assist(hotline_api, COMPLAINT)["work_order"]
    kept = post(hotline_api, "/api/hotline/workorders", {"status": "draft", "work_order": complaint})
    assert kept.status_code == 201 and kept.json()["status"] == "draft"

    def listed(**query: str) -> list[str]:
        response = httpx.get(f"{hotline_api.url}/api/hotline/workorders", params=query, timeout=30)
        assert response.status_code == 200, response.text
        return [o["number"] for o in response.json()["work_orders"]]

    assert {order["number"], kept.json()["number"]} <= set(listed())
    assert kept.json()["number"] in listed(status="draft") and order["number"] not in listed(status="draft")
    assert listed(department=TOWN) == [kept.json()["number"]]
    level1 = complaint["事项分类"].split("/")[0]
    if level1:
        assert kept.json()["number"] in listed(category=level1)
    today = order["work_order"]["来电时间"][:10]
    assert order["number"] in listed(**{"from": today, "to": today})
    assert listed(**{"from": "2020-01-01", "to": "2020-01-02"}) == []
    assert httpx.get(f"{hotline_api.url}/api/hotline/workorders", params={"from": "yesterday"}).status_code == 422

    export = httpx.get(f"{hotline_api.url}/api/hotline/workorders/export", params={"format": "csv"}, timeout=30)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    mine = next(r for r in rows if r["工单编号"] == order["number"])
    assert mine["联系电话"] == "13800123456" and mine["是否需要转办"] in ("是", "否") and mine["来电时间"]
    xlsx = httpx.get(f"{hotline_api.url}/api/hotline/workorders/export", params={"format": "xlsx"}, timeout=30)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["工单编号", "状态", "类型"] and sheet.max_row == len(rows) + 1
    bad = httpx.get(f"{hotline_api.url}/api/hotline/workorders/export", params={"format": "pdf"})
    assert bad.status_code == 422


def test_a_draft_with_an_impossible_phone_is_refused(hotline_api: RunningApi) -> None:
    draft = {"诉求摘要": "咨询低保。", "联系电话": "12"}
    response = post(hotline_api, "/api/hotline/workorders", {"work_order": draft})
    assert response.status_code == 422 and response.json()["error"] == "invalid_phone"
    masked = post(hotline_api, "/api/hotline/workorders", {"work_order": {**draft, "联系电话": "138****3456"}})
    assert masked.status_code == 409 and masked.json()["error"] == "masked_phone"  # no call gave the number
    assert post(hotline_api, "/api/hotline/workorders", {"work_order": {"诉求摘要": " "}}).status_code == 422


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("是否需要转办", 1),  # a JSON boolean, not 0 / 1
        ("是否需要转办", "true"),
        ("来电时间", 0),  # RFC 3339 with its offset, not a timestamp
        ("来电时间", "2026-12-01"),
        ("来电时间", "2026-12-01T09:30:00"),
        ("来电人", "王\x01明"),
        ("诉求摘要", "\u3000 "),
    ],
)
def test_a_draft_field_outside_its_schema_is_refused(hotline_api: RunningApi, field: str, value: Any) -> None:
    draft = {"诉求摘要": "咨询低保。", field: value}
    response = post(hotline_api, "/api/hotline/workorders", {"work_order": draft})
    assert response.status_code == 422 and field in response.json()["message"], response.text


def test_dates_of_the_order_filters_are_iso_dates(hotline_api: RunningApi) -> None:
    for day in ("0", "2026-12-01T00:00:00", "yesterday"):
        response = httpx.get(f"{hotline_api.url}/api/hotline/workorders", params={"from": day}, timeout=30)
        assert response.status_code == 422, (day, response.text)


def test_a_list_holds_200_orders_unless_asked_an_export_5000(hotline_api: RunningApi) -> None:
    for summary in ("咨询低保。", "咨询医保。"):
        post(hotline_api, "/api/hotline/workorders", {"work_order": {"诉求摘要": summary}}).raise_for_status()
    one = httpx.get(f"{hotline_api.url}/api/hotline/workorders", params={"limit": 1}, timeout=30)
    assert len(one.json()["work_orders"]) == 1
    paths = httpx.get(f"{hotline_api.url}/openapi.json", timeout=30).json()["paths"]

    def limit(path: str) -> dict[str, Any]:
        return next(p["schema"] for p in paths[path]["get"]["parameters"] if p["name"] == "limit")

    listing, export = limit("/api/hotline/workorders"), limit("/api/hotline/workorders/export")
    assert (listing["default"], export["default"]) == (200, 5000)
    assert listing["maximum"] == export["maximum"] == 5000


def test_a_spreadsheet_cannot_run_what_a_caller_said(hotline_api: RunningApi) -> None:
    draft = {"诉求摘要": '=HYPERLINK("http://x")', "联系电话": ""}
    number = post(hotline_api, "/api/hotline/workorders", {"work_order": draft}).json()["number"]
    export = httpx.get(f"{hotline_api.url}/api/hotline/workorders/export", params={"format": "csv"}, timeout=30)
    row = next(r for r in csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))) if r["工单编号"] == number)
    assert row["诉求摘要"].startswith("'=")


# -- who may call ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed(hotline_api: RunningApi) -> Iterator[tuple[TestClient, TestClient, str]]:
    """Clients from a public address: one for the app without a key, one for the app with a bootstrap key,
    and an analyst's API key."""
    accounts = AccountStore.open(hotline_api.settings.store.url)
    analyst = accounts.add_key("analyst-1", Role.ANALYST)
    accounts.close()
    with_key = quiet(hotline_api.settings)
    with_key.hotline.api_key = SecretStr("hotline-bootstrap-key-0123456789")
    public = ("203.0.113.7", 40000)
    with (
        TestClient(create_app(quiet(hotline_api.settings)), client=public) as open_app,
        TestClient(create_app(with_key), client=public) as keyed_app,
    ):
        yield open_app, keyed_app, analyst


ROUTES = [
    ("POST", "/api/hotline/assist", {"transcript": "市民：低保怎么申请？"}),
    ("POST", "/api/hotline/calls", None),
    ("POST", "/api/hotline/calls/" + "c" * 32 + "/segments", {"transcript": "市民：低保怎么申请？"}),
    ("GET", "/api/hotline/calls/" + "c" * 32 + "/events", None),
    ("POST", "/api/hotline/calls/" + "c" * 32 + "/close", None),
    ("POST", "/api/hotline/workorders", {"work_order": {"诉求摘要": "咨询"}}),
    ("GET", "/api/hotline/workorders", None),
    ("GET", "/api/hotline/workorders/export", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p[:40]}" for m, p, _ in ROUTES])
def test_a_client_off_the_machine_needs_the_key(
    keyed: tuple[TestClient, TestClient, str], method: str, path: str, body: Any
) -> None:
    open_app, keyed_app, _ = keyed
    for client in (open_app, keyed_app):
        refused = client.request(method, path, json=body)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    wrong = keyed_app.request(method, path, json=body, headers={"X-API-Key": "not-the-key"})
    assert wrong.status_code == 401
    right = keyed_app.request(method, path, json=body, headers={"X-API-Key": "hotline-bootstrap-key-0123456789"})
    assert right.status_code not in (401, 403), right.text


def test_an_analyst_may_export_with_masked_phones_but_not_assist(keyed: tuple[TestClient, TestClient, str]) -> None:
    open_app, keyed_app, analyst = keyed
    operator = {"X-API-Key": "hotline-bootstrap-key-0123456789"}
    draft = {"诉求摘要": "咨询低保。", "联系电话": "13800123456"}
    keyed_app.post("/api/hotline/workorders", json={"work_order": draft}, headers=operator).raise_for_status()
    headers = {"X-API-Key": analyst}
    refused = open_app.post("/api/hotline/assist", json={"transcript": "市民：低保怎么申请？"}, headers=headers)
    assert refused.status_code == 403
    export = open_app.get("/api/hotline/workorders/export", params={"format": "csv"}, headers=headers)
    assert export.status_code == 200
    phones = [r["联系电话"] for r in csv.DictReader(io.StringIO(export.content.decode("utf-8-sig")))]
    assert "13800123456" not in export.content.decode("utf-8-sig")
    assert "138****3456" in phones
