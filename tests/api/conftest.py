"""Fixtures for API tests: the real API served by uvicorn on 127.0.0.1, over the real Rasa stack."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, sync_playwright

from api.app import create_app
from api.settings import AppSettings
from monitor.log import ConversationLog

from ..servers import Stack, serving_api
from .fakes import FakeTelegramApi, FakeWeChatApi
from .pages import CHROMIUM, CHROMIUM_ARGS

REDIS_URL = "redis://127.0.0.1:6379/0"  # the local Redis the tests share (rate limits, WeChat keys)

# ---------------------------------------------------------------------------------------------
# Web chat: the app over the session stack (shared helpers: app_settings, serve_api, wait_until)
# ---------------------------------------------------------------------------------------------


def app_settings(stack: Stack, directory: Path, rate_limit: str = "1000/minute") -> AppSettings:
    """Settings pointing the API at the running stack, with its own conversation log under ``directory``."""
    settings = AppSettings()
    settings.store.url = stack.env["POLICY_STORE__URL"]
    settings.index.dir = Path(stack.env["POLICY_INDEX__DIR"])
    settings.rasa.url = stack.rasa_url
    settings.rasa.actions_url = stack.actions_url
    settings.chat.rate_limit = rate_limit
    settings.conversation_log.url = f"sqlite:///{directory}/conversations.db"
    settings.conversation_log.spool = str(directory / "log-spool.jsonl")
    return settings


@dataclass(frozen=True)
class RunningApi:
    """A served ``create_app(settings)``: its base URL, the settings it was built with, and the app itself."""

    url: str
    settings: AppSettings
    app: FastAPI

    def open_log(self) -> ConversationLog:
        """A connection to the app's conversation log; close it when done."""
        return ConversationLog.open(self.settings.log_url)

    def flush(self) -> None:
        """Wait until every turn the app queued so far is written (the log writer is a background thread)."""
        assert self.app.state.services.writer.flush(), "the conversation log writer did not drain"

    def logged(self) -> int:
        """The number of turns in the app's conversation log once everything queued is written."""
        self.flush()
        log = self.open_log()
        try:
            return log.count()
        finally:
            log.close()


@contextmanager
def serve_api(settings: AppSettings, app: FastAPI | None = None) -> Iterator[RunningApi]:
    """``create_app(settings)`` (or ``app``, built from them) under uvicorn on a free loopback port."""
    app = app or create_app(settings)
    with serving_api(app, timeout=30) as url:
        yield RunningApi(url, settings, app)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass (the log writer is asynchronous)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture(scope="session")
def chat_api(warm_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    """The API over the warmed-up session stack with a generous rate limit; shared by the chat and page tests."""
    with serve_api(app_settings(warm_stack, tmp_path_factory.mktemp("chat-api"))) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium for one page-test module (flags and axe-core: tests/api/pages.py)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def conversation_log(chat_api: RunningApi) -> Iterator[ConversationLog]:
    """Read access to ``chat_api``'s conversation log."""
    log = chat_api.open_log()
    yield log
    log.close()


# ---------------------------------------------------------------------------------------------
# Channels: no real network, fake WeChat / Telegram servers on 127.0.0.1, a warm assistant
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def warm_stack(stack: Stack) -> Stack:
    """The stack after one question, so the action server's lazy model load is not timed by a channel test."""
    question = {"sender": "warm-up", "message": "个人创业担保贷款最高能贷多少？"}
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=question, timeout=180)
    response.raise_for_status()
    return stack


@pytest.fixture(scope="module")
def fake_wechat() -> Iterator[FakeWeChatApi]:
    """The WeChat API (token + customer-service send) on 127.0.0.1."""
    fake = FakeWeChatApi(app_id="wx5f3e2a1b0c9d8e7f", secret="fake-app-secret-0123456789")
    with fake.running():
        yield fake


@pytest.fixture(scope="module")
def fake_telegram() -> Iterator[FakeTelegramApi]:
    """The Telegram Bot API on 127.0.0.1."""
    fake = FakeTelegramApi(token="123456:TEST-token-abcdefghijklmnopqrstuvwxyz")
    with fake.running():
        yield fake
