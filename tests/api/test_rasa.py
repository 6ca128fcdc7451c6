"""The API's side of Rasa: its HTTP API closed, several servers with sticky sessions, all checked by /healthz."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import httpx

from api.rasa import parse_rest_messages, server_for

from ..servers import Stack, free_port
from .conftest import app_settings, serve_api


def test_rasa_serves_only_its_rest_channel(stack: Stack) -> None:
    """Rasa runs without --enable-api (as the Procfile starts it): trackers cannot be read or rewritten."""
    tracker = httpx.get(f"{stack.rasa_url}/conversations/someone/tracker", timeout=10)
    status = httpx.get(f"{stack.rasa_url}/status", timeout=10)
    replaced = httpx.put(f"{stack.rasa_url}/conversations/someone/tracker/events", json=[], timeout=10)

    assert tracker.status_code == status.status_code == replaced.status_code == 404
    assert httpx.get(f"{stack.rasa_url}/", timeout=10).status_code == 200


def test_a_sender_always_goes_to_the_same_server_and_senders_spread() -> None:
    senders = [uuid.uuid4().hex for _ in range(2000)]

    first = [server_for(s, 2) for s in senders]
    counts = Counter(first)

    assert first == [server_for(s, 2) for s in senders]  # the same in every process: no per-process seed
    assert server_for("web:abc", 2) == server_for("web:abc", 2)
    assert 800 < counts[0] < 1200 and 800 < counts[1] < 1200


def test_healthz_checks_every_rasa_server(warm_stack: Stack, tmp_path: Path) -> None:
    both_up = app_settings(warm_stack, tmp_path)
    both_up.rasa.url = f"{warm_stack.rasa_url}, {warm_stack.rasa_url}/"
    one_down = app_settings(warm_stack, tmp_path)
    one_down.rasa.url = f"{warm_stack.rasa_url},http://127.0.0.1:{free_port()}"

    with serve_api(both_up) as api:
        healthy = httpx.get(f"{api.url}/healthz", timeout=30)
        answer = httpx.post(f"{api.url}/api/chat", json={"session_id": "two-servers", "text": "你好"}, timeout=60)
    with serve_api(one_down) as api:
        degraded = httpx.get(f"{api.url}/healthz", timeout=30)

    assert healthy.status_code == 200 and healthy.json()["rasa"]["ok"] is True
    assert answer.status_code == 200
    assert degraded.status_code == 503
    assert degraded.json()["rasa"]["ok"] is False


def test_a_turn_that_answered_and_then_resumed_the_form_is_an_answer() -> None:
    """The reply kind and answered flag the log records come from the answer, not the form's question after it."""
    answer = {"answered": True, "confidence": 0.71, "reply": "answer", "intent": "ask_policy",
              "citations": [{"doc_id": "qh-policy-medical-insurance-2026"}]}
    form = {"answered": False, "confidence": 0.0, "reply": "form", "intent": "ask_policy", "citations": []}
    messages = [{"text": "「每人每年400元」", "custom": answer}, {"text": "发生在哪里？", "custom": form}]
    reply = parse_rest_messages(messages)
    assert reply.answered and reply.confidence == 0.71 and reply.payload["reply"] == "answer"
    assert reply.texts[-1] == "发生在哪里？" and [c["doc_id"] for c in reply.citations] == [
        "qh-policy-medical-insurance-2026"
    ]
    only_form = parse_rest_messages([{"text": "发生在哪里？", "custom": form}])
    assert not only_form.answered and only_form.payload["reply"] == "form"
