"""Fixtures for API tests: the real API served by uvicorn on 127.0.0.1, over the real Rasa stack."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import AppSettings
from monitor.log import ConversationLog

from ..servers import Stack, serving_api
from .fakes import FakeTelegramApi, FakeWeChatApi

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
    """A served ``create_app(settings)``: its base URL and the settings it was built with."""

    url: str
    settings: AppSettings

    def open_log(self) -> ConversationLog:
        """A connection to the app's conversation log; close it when done."""
        return ConversationLog.open(self.settings.log_url)


@contextmanager
def serve_api(settings: AppSettings) -> Iterator[RunningApi]:
    """``create_app(settings)`` under uvicorn on a free loopback port, in a background thread."""
    with serving_api(create_app(settings), timeout=30) as url:
        yield RunningApi(url, settings)


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


@pytest.fixture(scope="session")
def conversation_log(chat_api: RunningApi) -> Iterator[ConversationLog]:
    """Read access to ``chat_api``'s conversation log."""
    log = chat_api.open_log()
    yield log
    log.close()


# ---------------------------------------------------------------------------------------------
# Channels: no real network, fake WeChat / Telegram servers on 127.0.0.1, a warm assistant
# ---------------------------------------------------------------------------------------------


class NetworkBlocked(ConnectionRefusedError):
    """A test tried to reach a non-loopback address."""


def _loopback(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="package", autouse=True)
def network_guard() -> Iterator[list[str]]:
    """Refuse every connection and name lookup that is not loopback, in any thread, for all API tests."""
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(host: object, port: object) -> None:
        if not _loopback(host):
            attempts.append(f"{host!r}:{port}")
            raise NetworkBlocked(f"tests must not reach the network ({host!r}:{port})")

    def connect(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple):
            check(address[0], address[1])
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if isinstance(address, tuple):
            check(address[0], address[1])
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None:
            check(host, port)
        return real_getaddrinfo(host, port, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield attempts


@pytest.fixture(autouse=True)
def no_network_calls(network_guard: list[str]) -> Iterator[None]:
    """Fail the test that (in any thread, even one whose error was swallowed) tried to reach the network."""
    network_guard.clear()
    yield
    assert not network_guard, f"real network calls attempted: {network_guard}"


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
