"""The action server: every domain action registered as an instance, served over HTTP by `python -m actions`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from actions.server import build_actions, create_executor
from knowledge.base import KnowledgeBase
from knowledge.provider import KnowledgeProvider
from knowledge.settings import ServiceSettings
from monitor.outbox import WorkOrderDesk

from ..conftest import ROOT

STARTUP_SECONDS = 60
# the first action waits for the model and index to load in the server process
FIRST_ANSWER_SECONDS = 180


def test_every_domain_action_is_registered_once(domain: dict[str, Any], desk: WorkOrderDesk) -> None:
    knowledge = KnowledgeProvider(lambda: pytest.fail("registering actions must not open the knowledge base"))
    names = [action.name() for action in build_actions(knowledge, desk, ServiceSettings())]
    assert sorted(names) == sorted(domain["actions"])
    executor = create_executor(build_actions(knowledge, desk, ServiceSettings()))
    assert sorted(item.name for item in executor.list_actions()) == sorted(domain["actions"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(sample_kb: KnowledgeBase, sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m actions` on 127.0.0.1 over the sample knowledge base; yields its base URL."""
    tmp_path = tmp_path_factory.mktemp("action-server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_")}
    env |= {"POLICY_STORE__URL": f"sqlite:///{sample_dir}/kb.db", "POLICY_INDEX__DIR": str(sample_dir / "index")}
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "actions", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "action server did not start"
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _call(action: str, text: str, intent: str, domain: dict[str, Any]) -> dict[str, Any]:
    """The request body Rasa sends to the action server."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": []}
    return {
        "next_action": action,
        "sender_id": "http-test",
        "version": "3.6.21",
        "domain": domain,
        "tracker": {
            "sender_id": "http-test",
            "slots": {"failed_turns": 0.0},
            "latest_message": latest,
            "events": [{"event": "user", "text": text, "parse_data": latest}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def test_server_answers_over_http_with_the_payload(server: str, domain: dict[str, Any]) -> None:
    feedback = httpx.post(
        f"{server}/webhook", json=_call("action_record_feedback", "有用", "feedback_positive", domain)
    )
    assert feedback.status_code == 200
    assert feedback.json()["responses"][0]["custom"]["feedback"] == "positive"

    body = _call("action_answer_policy_question", "个人创业担保贷款最高能贷多少", "ask_policy", domain)
    answer = httpx.post(f"{server}/webhook", json=body, timeout=FIRST_ANSWER_SECONDS)
    assert answer.status_code == 200
    result = answer.json()
    message = result["responses"][0]
    assert "30万元" in message["text"]
    assert "青人社发〔2023〕9号" in {c["doc_number"] for c in message["custom"]["citations"]}
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "current_doc_id",
        "value": "qh-policy-entrepreneurship-loan-2023",
    } in result["events"]


def test_unknown_action_is_a_404(server: str, domain: dict[str, Any]) -> None:
    response = httpx.post(f"{server}/webhook", json=_call("action_does_not_exist", "你好", "greet", domain))
    assert response.status_code == 404
