"""Fixtures for API tests: the real API served by uvicorn on 127.0.0.1, over the real Rasa stack."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, sync_playwright

from api.accounts import AccountStore, Role
from api.app import create_app
from api.settings import AppSettings
from knowledge.embedding import Embedder
from monitor.classify import ClassifySettings
from monitor.log import ConversationLog
from monitor.messages import MessageStore, import_messages

from ..conftest import ROOT, SHARED_DATA, copy_sample
from ..servers import Stack, serving_api
from .fakes import FakeTelegramApi, FakeWeChatApi
from .pages import CHROMIUM, CHROMIUM_ARGS, StaffApi

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


@contextmanager
def serve_staff_api(
    root: Path, sample_template: Path, staff: Mapping[str, Role], password: str, settings: AppSettings | None = None
) -> Iterator[StaffApi]:
    """The app over a copy of the sample knowledge base in ``root``, with ``staff`` (name → role) and an analyst's
    key; ``settings`` carries what a test sets beyond that (its store, index and log are replaced)."""
    knowledge = copy_sample(sample_template, root / "kb")
    settings = settings or AppSettings()
    settings.store.url, settings.index.dir = knowledge.store.url, knowledge.index.dir
    settings.conversation_log.url = f"sqlite:///{root}/log.db"
    settings.conversation_log.spool = str(root / "log-spool.jsonl")
    settings.hotline.warm_up = False  # no staff page here needs the classifier; the reader opens on a first question
    settings.accounts.login_rate_limit = "60/minute"  # each test logs its staff in afresh
    accounts = AccountStore.open(settings.store.url)
    for name, role in staff.items():
        accounts.add_user(name, role, password)
    analyst_key = accounts.add_key("page-analyst", Role.ANALYST)
    accounts.close()
    with serve_api(settings) as running:
        yield StaffApi(running, password, analyst_key)


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


# ---------------------------------------------------------------------------------------------
# Hotline: the app over a private copy of the sample knowledge base, with past cases imported
# (tests/api/test_hotline.py and test_hotline_page.py)
# ---------------------------------------------------------------------------------------------

CASE_COLUMNS = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间"]
TOWN = "柳溪镇人民政府"
PAST_CASES = [
    ("c1", "幸福小区物业乱收费", "我们小区物业每个月乱收费，多收物业费，希望有人管一管。", TOWN),
    ("c2", "物业公司多收物业费", "小区物业公司擅自提高物业费，多收钱，没人管。", TOWN),
    ("c3", "投诉小区物业乱收费问题", "物业乱收停车费和物业费，业主意见很大。", TOWN),
    ("c4", "低保申请咨询", "想问一下低保需要什么条件，怎么申请。", "县民政局"),
]


def _write_cases(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CASE_COLUMNS)
        for number, title, detail, unit in PAST_CASES:
            reply = f"网友您好！您的留言已收悉。经调查核实，已责成相关单位依规处理并向您反馈。{unit} 2026年10月9日"
            writer.writerow([number, "A000", title, "2026/10/1 09:00:00", detail, reply, "2026/10/9 10:00:00"])


def hotline_settings(root: Path, sample: Path) -> AppSettings:
    """The app over a private copy of the sample knowledge base; calls, orders and cases in its database."""
    knowledge = copy_sample(sample, root / "kb")
    settings = AppSettings()
    settings.store.url = knowledge.store.url
    settings.index.dir = knowledge.index.dir
    settings.conversation_log.url = f"sqlite:///{root}/conversations.db"
    settings.conversation_log.spool = str(root / "log-spool.jsonl")
    settings.classify = ClassifySettings(
        taxonomy=SHARED_DATA / "tipdm" / "taxonomy.xlsx",
        training=SHARED_DATA / "tipdm" / "messages_labelled_sample.xlsx",
        departments=ROOT / "monitor" / "departments.yml",
        features="tfidf",
        cache=root / "classifier.npz",
    )
    return settings


def quiet(settings: AppSettings) -> AppSettings:
    """A copy for another app over the same database that loads its model only when a call needs it."""
    copy = settings.model_copy(deep=True)
    copy.hotline.warm_up = False
    return copy


@pytest.fixture(scope="module")
def hotline_api(
    sample_template: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[RunningApi]:
    root = tmp_path_factory.mktemp("hotline-api")
    settings = hotline_settings(root, sample_template)
    _write_cases(root / "cases.csv")
    store = MessageStore.open(settings.store.url)
    report = import_messages(store, root / "cases.csv", embedder)
    store.close()
    assert report.added == len(PAST_CASES)
    with serve_api(settings) as running:
        httpx.post(f"{running.url}/api/hotline/assist", json={"transcript": "市民：低保怎么申请？"}, timeout=120)
        yield running
