"""The web chat API end to end: the real app on 127.0.0.1 over the real Rasa and action servers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.log import ConversationLog

from ..servers import Stack
from .conftest import RunningApi, app_settings, serve_api, wait_until

LOAN_QUESTION = "个人创业担保贷款最高能贷多少？"
CITATION_FIELDS = {"doc_id", "title", "kind", "doc_number", "issuer", "date", "validity", "url", "replaced_by"}


def session() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def ask(api: RunningApi, text: str, session_id: str | None = None) -> httpx.Response:
    return httpx.post(f"{api.url}/api/chat", json={"session_id": session_id or session(), "text": text}, timeout=60)


def test_policy_question_is_answered_with_a_citation(chat_api: RunningApi) -> None:
    response = ask(chat_api, LOAN_QUESTION)

    assert response.status_code == 200
    body = response.json()
    assert body["answered"] is True
    assert "30万元" in body["answer"]
    assert 0 < body["confidence"] <= 1
    assert len(body["turn_id"]) == 32
    for cited in body["citations"]:
        assert set(cited) >= CITATION_FIELDS
        assert cited["title"] and cited["issuer"] and cited["validity"]
    policy = next(c for c in body["citations"] if c["doc_number"])  # a 解读 has no 文号; its policy has one
    assert re.fullmatch(r"青\S+〔2023〕\d+号", policy["doc_number"])
    assert policy["validity"] == "现行有效"


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_message_is_refused_in_chinese(chat_api: RunningApi, text: str) -> None:
    response = ask(chat_api, text)

    assert response.status_code == 400
    assert response.json() == {"error": "empty_message", "message": "消息不能为空。"}


def test_too_long_message_is_refused_with_the_limit(chat_api: RunningApi) -> None:
    limit = chat_api.settings.chat.max_chars

    response = ask(chat_api, "创" * (limit + 1))

    assert response.status_code == 422  # over the schema's maxLength: a validation error, like any other
    body = response.json()
    assert body["error"] == "message_too_long"
    assert str(limit) in body["message"]


def test_message_of_exactly_the_limit_is_accepted(chat_api: RunningApi) -> None:
    limit = chat_api.settings.chat.max_chars

    response = ask(chat_api, ("创业贷款" * limit)[:limit])

    assert response.status_code == 200


def test_malformed_json_is_refused_without_echoing_the_body(chat_api: RunningApi) -> None:
    marker = f"MARKER-{uuid.uuid4().hex}"
    broken = '{"session_id": "s1", "text": "' + marker + '", '

    response = httpx.post(
        f"{chat_api.url}/api/chat", content=broken.encode(), headers={"Content-Type": "application/json"}, timeout=30
    )

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert response.json()["message"].startswith("请求格式不正确")
    assert "不是有效的 JSON" in response.json()["message"]  # not a bare character offset as if it were a field
    assert marker not in response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"session_id": "s1"}, "text"),
        ({"text": "你好"}, "session_id"),
        ({"session_id": "坏的 id<script>", "text": "你好"}, "session_id"),
    ],
)
def test_missing_or_invalid_field_is_named(chat_api: RunningApi, body: dict[str, str], field: str) -> None:
    response = httpx.post(f"{chat_api.url}/api/chat", json=body, timeout=30)

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["message"]
    assert "<script>" not in response.text


@pytest.fixture
def strict_api(stack: Stack, tmp_path: Path) -> Iterator[RunningApi]:
    """A second app over the same stack allowing 3 messages a minute per user."""
    with serve_api(app_settings(stack, tmp_path, rate_limit="3/minute")) as running:
        yield running


def test_rate_limit_applies_per_session(strict_api: RunningApi) -> None:
    citizen = session()
    statuses = [ask(strict_api, "你好", citizen).status_code for _ in range(3)]

    fourth = ask(strict_api, "你好", citizen)
    other = ask(strict_api, "你好", session())

    assert statuses == [200, 200, 200]
    assert fourth.status_code == 429
    assert fourth.json()["error"] == "rate_limited"
    assert "频繁" in fourth.json()["message"]
    assert other.status_code == 200


def test_healthz_reports_every_dependency_ok(chat_api: RunningApi) -> None:
    response = httpx.get(f"{chat_api.url}/healthz", timeout=30)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    for part in ("rasa", "actions", "index", "store"):
        assert body[part]["ok"] is True, body
    assert body["store"]["documents"] > 0


def test_every_turn_is_logged_with_the_phone_number_masked(
    chat_api: RunningApi, conversation_log: ConversationLog
) -> None:
    chat_api.flush()  # earlier tests' turns are written before counting
    before = conversation_log.count()
    citizen = session()
    questions = ["你好", "我的电话是13812345678，低保怎么申请？", LOAN_QUESTION]

    turn_ids = []
    for text in questions:
        response = ask(chat_api, text, citizen)
        assert response.status_code == 200
        turn_ids.append(response.json()["turn_id"])

    chat_api.flush()
    assert conversation_log.count() == before + len(questions)
    stored = conversation_log.get(turn_ids[1])
    assert stored is not None
    assert "138****5678" in stored["question"]
    assert "13812345678" not in stored["question"]
    assert stored["channel"] == "web"
    assert citizen not in stored["user_hash"]
    answered = conversation_log.get(turn_ids[2])
    assert answered is not None and answered["answered"] is True
    assert answered["cited_doc_ids"] != "[]"


def test_feedback_is_recorded_on_the_logged_turn(chat_api: RunningApi, conversation_log: ConversationLog) -> None:
    citizen = session()
    turn_id = ask(chat_api, LOAN_QUESTION, citizen).json()["turn_id"]

    response = httpx.post(
        f"{chat_api.url}/api/feedback", json={"turn_id": turn_id, "session_id": citizen, "useful": True}, timeout=60
    )

    assert response.status_code == 200
    assert response.json()["answer"]  # the bot thanks the citizen
    assert wait_until(lambda: (conversation_log.get(turn_id) or {}).get("feedback") == "positive")


def test_negative_feedback_is_recorded(chat_api: RunningApi, conversation_log: ConversationLog) -> None:
    citizen = session()
    turn_id = ask(chat_api, LOAN_QUESTION, citizen).json()["turn_id"]

    response = httpx.post(
        f"{chat_api.url}/api/feedback", json={"turn_id": turn_id, "session_id": citizen, "useful": False}, timeout=60
    )

    assert response.status_code == 200
    assert wait_until(lambda: (conversation_log.get(turn_id) or {}).get("feedback") == "negative")


def test_openapi_docs_are_served(chat_api: RunningApi) -> None:
    docs = httpx.get(f"{chat_api.url}/docs", timeout=30)
    schema = httpx.get(f"{chat_api.url}/openapi.json", timeout=30).json()

    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert {"/api/chat", "/api/feedback", "/healthz"} <= set(schema["paths"])


def test_chat_page_and_its_assets_are_served_locally(chat_api: RunningApi) -> None:
    page = httpx.get(f"{chat_api.url}/", timeout=30)

    assert page.status_code == 200
    assert "<title>青禾县政策咨询助手</title>" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN, no external fonts
    for asset in ("/static/chat.css", "/static/chat.js"):
        assert asset in page.text
        response = httpx.get(f"{chat_api.url}{asset}", timeout=30)
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text
