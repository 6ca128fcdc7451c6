"""The Telegram webhook end to end: updates posted to the real app over the real Rasa stack.

Only the Telegram Bot API is a fake, on 127.0.0.1; it records what the bot sent.
"""

from __future__ import annotations

import itertools
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from api.settings import TelegramSettings

from ..servers import ROOT, Stack
from .conftest import RunningApi, app_settings, serve_api, wait_until
from .fakes import BOT_USER, FakeTelegramApi

SECRET = "webhook-secret_0123456789"
LOAN_QUESTION = "个人创业担保贷款最高能贷多少？"
GRADUATE_DOC_NUMBER = "青人社发〔2024〕15号"
_update_ids = itertools.count(secrets.randbelow(10**8) + 10**8)
_user_ids = itertools.count(secrets.randbelow(10**8) + 10**9)


@pytest.fixture(scope="module")
def telegram_api(
    warm_stack: Stack, fake_telegram: FakeTelegramApi, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApi]:
    settings = app_settings(warm_stack, tmp_path_factory.mktemp("telegram-api"))
    settings.rasa.timeout_s = 60
    settings.telegram = TelegramSettings(
        enabled=True,
        token=SecretStr(fake_telegram.token),
        secret_token=SecretStr(SECRET),
        base_url=fake_telegram.base_url,
    )
    with serve_api(settings) as running:
        yield running


def citizen() -> dict[str, Any]:
    return {"id": next(_user_ids), "is_bot": False, "first_name": "小青", "language_code": "zh-hans"}


def message_update(user: dict[str, Any], text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": secrets.randbelow(10**6),
        "date": int(time.time()),
        "from": user,
        "text": text,
        "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_update_ids), "message": message}


def button_update(user: dict[str, Any], data: str) -> dict[str, Any]:
    """A press on an inline button of a message the bot sent earlier."""
    shown = {
        "message_id": 1,
        "date": int(time.time()),
        "from": BOT_USER,
        "text": "…",
        "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
    }
    query = {"id": str(secrets.randbelow(10**12)), "from": user, "chat_instance": "42", "data": data, "message": shown}
    return {"update_id": next(_update_ids), "callback_query": query}


def deliver(api: RunningApi, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return httpx.post(f"{api.url}/telegram/webhook", json=update, headers=headers, timeout=60)


def sent_to(fake: FakeTelegramApi, user: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in fake.sent() if int(m["chat_id"]) == user["id"]]


def test_start_is_welcomed(telegram_api: RunningApi, fake_telegram: FakeTelegramApi) -> None:
    user = citizen()

    assert deliver(telegram_api, message_update(user, "/start")).status_code == 200

    [welcome] = sent_to(fake_telegram, user)
    assert "政策咨询助手" in welcome["text"] and "12345" in welcome["text"]


def test_question_gets_an_html_answer_with_its_source_and_feedback_buttons(
    telegram_api: RunningApi, fake_telegram: FakeTelegramApi
) -> None:
    user = citizen()
    question = message_update(user, LOAN_QUESTION)

    assert deliver(telegram_api, question).status_code == 200

    [answer] = sent_to(fake_telegram, user)
    assert answer["parse_mode"] == "HTML"
    assert "30万元" in answer["text"] and "青人社发〔2023〕9号" in answer["text"]
    assert '<a href="https://www.qinghe.gov.example/' in answer["text"] and "【现行有效】" in answer["text"]
    useful, useless = answer["reply_markup"]["inline_keyboard"][-1]
    assert (useful["text"], useless["text"]) == ("👍 有用", "👎 没用")
    _, turn_id, _ = useful["callback_data"].split(":")
    assert useless["callback_data"] == f"fb:{turn_id}:0"

    # Telegram redelivers an update it did not see acknowledged: answered and logged once
    assert deliver(telegram_api, question).status_code == 200
    assert len(sent_to(fake_telegram, user)) == 1

    press = button_update(user, useful["callback_data"])
    assert deliver(telegram_api, press).status_code == 200

    answered = [c.body for c in fake_telegram.calls("/answerCallbackQuery")]
    assert any(body["callback_query_id"] == press["callback_query"]["id"] for body in answered)
    log = telegram_api.open_log()
    try:
        assert wait_until(lambda: (log.get(turn_id) or {}).get("feedback") == "positive")
    finally:
        log.close()


def test_vague_question_offers_both_subsidies_and_a_press_answers(
    telegram_api: RunningApi, fake_telegram: FakeTelegramApi
) -> None:
    user = citizen()

    assert deliver(telegram_api, message_update(user, "创业补贴怎么申请")).status_code == 200

    [choice] = sent_to(fake_telegram, user)
    buttons = [row[0] for row in choice["reply_markup"]["inline_keyboard"]]
    titles = [b["text"] for b in buttons]
    assert "《青禾县大学生创业补贴实施办法》" in titles and "《青禾县返乡入乡创业补贴办法》" in titles
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)  # Telegram's callback_data limit
    graduate = buttons[titles.index("《青禾县大学生创业补贴实施办法》")]

    assert deliver(telegram_api, button_update(user, graduate["callback_data"])).status_code == 200

    answer = sent_to(fake_telegram, user)[-1]
    assert GRADUATE_DOC_NUMBER in answer["text"]


def test_wrong_or_missing_secret_token_is_refused_and_nothing_is_sent(
    telegram_api: RunningApi, fake_telegram: FakeTelegramApi
) -> None:
    user = citizen()
    before = telegram_api.logged()  # after earlier tests' turns are written

    wrong = deliver(telegram_api, message_update(user, LOAN_QUESTION), secret="not-the-secret")
    missing = deliver(telegram_api, message_update(user, LOAN_QUESTION), secret=None)

    assert wrong.status_code == missing.status_code == 403
    assert wrong.json()["error"] == "forbidden"
    assert sent_to(fake_telegram, user) == []
    assert telegram_api.logged() == before


def test_disabled_telegram_answers_404(warm_stack: Stack, tmp_path: Path) -> None:
    with serve_api(app_settings(warm_stack, tmp_path)) as api:
        response = deliver(api, message_update(citizen(), "/start"))

    assert response.status_code == 404
    assert "POLICY_TELEGRAM__ENABLED" in response.json()["message"]


def test_polling_entry_point_answers_with_the_same_handlers(
    warm_stack: Stack, fake_telegram: FakeTelegramApi, tmp_path: Path
) -> None:
    user = citizen()
    fake_telegram.updates.append(message_update(user, LOAN_QUESTION))
    env = {
        **os.environ,
        **warm_stack.env,
        "POLICY_TELEGRAM__TOKEN": fake_telegram.token,
        "POLICY_TELEGRAM__BASE_URL": fake_telegram.base_url,
        "POLICY_RASA__URL": warm_stack.rasa_url,
        "POLICY_RASA__TIMEOUT_S": "60",
        "POLICY_CONVERSATION_LOG__URL": f"sqlite:///{tmp_path}/conversations.db",
        "POLICY_CONVERSATION_LOG__SPOOL": str(tmp_path / "spool.jsonl"),
    }
    with open(tmp_path / "polling.log", "wb") as out:
        command = [sys.executable, "-m", "api", "telegram-poll"]
        bot = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            fake_telegram.wait_until(lambda: bool(sent_to(fake_telegram, user)) or bot.poll() is not None, timeout=90)
        finally:
            bot.send_signal(signal.SIGINT)
            try:
                bot.wait(timeout=30)
            except subprocess.TimeoutExpired:
                bot.kill()
                bot.wait()
    log_text = (tmp_path / "polling.log").read_text(errors="replace")
    [answer] = sent_to(fake_telegram, user)
    assert "30万元" in answer["text"] and answer["parse_mode"] == "HTML", log_text[-2000:]
    assert bot.returncode == 0, log_text[-2000:]
