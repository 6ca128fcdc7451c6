"""What the API logs, through the real Rasa stack: reply kinds, choices, work orders, failures, outages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.log import ConversationLog

from ..api.conftest import RunningApi, app_settings, serve_api
from ..postgres import throwaway_schema
from ..servers import Stack, free_port
from .conftest import Forwarder, wait_until

LOAN_QUESTION = "个人创业担保贷款最高能贷多少？"
LOAN_2019 = "qh-policy-entrepreneurship-loan-2019"


@pytest.fixture(scope="module")
def api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": "warm-up", "message": "你好"}, timeout=180)
    with serve_api(app_settings(stack, tmp_path_factory.mktemp("api-log"))) as running:
        yield running


def _chat(api: RunningApi, session: str, text: str) -> dict[str, object]:
    response = httpx.post(f"{api.url}/api/chat", json={"session_id": session, "text": text}, timeout=120)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _row(api: RunningApi, turn_id: object) -> dict[str, object]:
    api.flush()
    log = api.open_log()
    try:
        row = log.get(str(turn_id))
    finally:
        log.close()
    assert row is not None, f"turn {turn_id} not logged"
    return row


def test_reply_kinds_choices_and_work_orders_are_logged(api: RunningApi) -> None:
    session = f"s-{uuid.uuid4().hex[:8]}"
    greeting = _chat(api, session, "你好")
    answer = _chat(api, session, LOAN_QUESTION)
    pressed = _chat(api, session, f'/choose_document{{"doc_id":"{LOAN_2019}"}}')
    handed = _chat(api, session, "转人工")
    assert _row(api, greeting["turn_id"])["reply_kind"] == "smalltalk"
    assert _row(api, answer["turn_id"])["reply_kind"] == "answer"
    choice = _row(api, pressed["turn_id"])
    assert choice["question"] == "" and choice["choice"] == f'/choose_document{{"doc_id":"{LOAN_2019}"}}'
    assert choice["reply_kind"] == "answer"
    handoff = _row(api, handed["turn_id"])
    assert handoff["reply_kind"] == "handoff" and handoff["handoff"] is True
    assert handoff["work_order"] == handed["work_order"] and str(handed["work_order"]).startswith("GD")


def test_feedback_is_logged_as_a_choice_and_on_the_turn(api: RunningApi) -> None:
    session = f"s-{uuid.uuid4().hex[:8]}"
    answer = _chat(api, session, LOAN_QUESTION)
    body = {"turn_id": answer["turn_id"], "session_id": session, "useful": True}
    thanked = httpx.post(f"{api.url}/api/feedback", json=body, timeout=120).json()
    assert _row(api, answer["turn_id"])["feedback"] == "positive"
    row = _row(api, thanked["turn_id"])
    assert (row["question"], row["choice"], row["reply_kind"]) == ("", "/feedback_positive", "feedback")


def test_a_turn_that_failed_at_rasa_is_logged_as_an_error(stack: Stack, tmp_path: Path) -> None:
    settings = app_settings(stack, tmp_path)
    settings.rasa.url = f"http://127.0.0.1:{free_port()}"  # Rasa is not there
    with serve_api(settings) as running:
        question = {"session_id": "s-err", "text": "低保怎么申请"}
        response = httpx.post(f"{running.url}/api/chat", json=question, timeout=60)
        assert response.status_code == 503
        running.flush()
        log = running.open_log()
        try:
            [row] = log.recent(5)
        finally:
            log.close()
    assert (row["question"], row["reply_kind"], row["answered"]) == ("低保怎么申请", "error", False)
    assert "12345" in str(row["answer"])  # what the citizen was shown


@pytest.mark.postgres
def test_the_api_starts_and_answers_while_the_log_database_is_down(
    stack: Stack, tmp_path: Path, forwarder: Forwarder
) -> None:
    with throwaway_schema("api_log") as direct:
        schema = direct.get_execution_options()["schema_translate_map"][None]
        settings = app_settings(stack, tmp_path)
        settings.conversation_log.url = f"{forwarder.url}&options=-csearch_path%3D{schema}"
        with serve_api(settings) as running:  # the log database's port is closed
            session = f"s-{uuid.uuid4().hex[:8]}"
            answer = _chat(running, session, LOAN_QUESTION)
            assert answer["answered"] is True
            body = {"turn_id": answer["turn_id"], "session_id": session, "useful": False}
            assert httpx.post(f"{running.url}/api/feedback", json=body, timeout=120).status_code == 200
            running.flush()

            forwarder.open()  # the database is back
            log = ConversationLog.open(settings.log_url)
            try:
                assert wait_until(lambda: log.count() == 2, timeout=60)
                assert wait_until(lambda: (log.get(str(answer["turn_id"])) or {}).get("feedback") == "negative")
            finally:
                log.close()
