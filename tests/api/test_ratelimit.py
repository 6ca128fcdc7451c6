"""Rate limits per session and per client address, in the local Redis, and open when Redis is stopped."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.errors import RateLimited
from api.ratelimit import RateLimiter, RateStorage

from ..servers import Stack, free_port
from .conftest import REDIS_URL, RunningApi, app_settings, serve_api


def stopped_redis() -> str:
    """A Redis URL nothing listens on: Redis as it is while it is down."""
    return f"redis://127.0.0.1:{free_port()}/0"


def ask(api: RunningApi, session_id: str, text: str = "你好") -> httpx.Response:
    return httpx.post(f"{api.url}/api/chat", json={"session_id": session_id, "text": text}, timeout=60)


def test_limits_in_redis_are_shared_by_two_processes() -> None:
    key = f"citizen-{uuid.uuid4().hex}"
    first, second = RateLimiter("3/minute", RateStorage(REDIS_URL)), RateLimiter("3/minute", RateStorage(REDIS_URL))

    for limiter in (first, second, first):
        limiter.check(key)

    with pytest.raises(RateLimited):
        second.check(key)
    first.check(f"{key}-someone-else")


def test_a_stopped_redis_lets_requests_through_with_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter("2/minute", RateStorage(stopped_redis()))

    with caplog.at_level(logging.WARNING, logger="api.ratelimit"):
        for _ in range(20):
            limiter.check("citizen")  # over the limit ten times over: nothing counts while Redis is down

    lines = [r for r in caplog.records if r.name == "api.ratelimit"]
    assert len(lines) == 1
    assert "unreachable" in lines[0].getMessage()


@pytest.fixture
def redis_apis(warm_stack: Stack, tmp_path: Path) -> Iterator[tuple[RunningApi, RunningApi]]:
    """Two API processes over the same Redis, 3 messages a minute per session."""
    salt = SecretStr(f"salt-{uuid.uuid4().hex}")  # the processes of one install hash a session the same way
    settings = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        one = app_settings(warm_stack, tmp_path / name, rate_limit="3/minute")
        one.conversation_log.salt = salt
        one.chat.rate_storage = REDIS_URL
        settings.append(one)
    with serve_api(settings[0]) as first, serve_api(settings[1]) as second:
        yield first, second


def test_a_session_limit_holds_across_processes_sharing_redis(redis_apis: tuple[RunningApi, RunningApi]) -> None:
    first, second = redis_apis
    citizen = f"test-{uuid.uuid4().hex[:12]}"

    statuses = [ask(api, citizen).status_code for api in (first, second, first)]
    fourth = ask(second, citizen)

    assert statuses == [200, 200, 200]
    assert fourth.status_code == 429
    assert fourth.json()["error"] == "rate_limited"


def test_a_client_address_is_limited_across_sessions(warm_stack: Stack, tmp_path: Path) -> None:
    settings = app_settings(warm_stack, tmp_path)
    settings.chat.address_rate_limit = "3/minute"
    with serve_api(settings) as api:
        statuses = [ask(api, f"test-{uuid.uuid4().hex[:12]}").status_code for _ in range(3)]
        fourth = ask(api, f"test-{uuid.uuid4().hex[:12]}")

    assert statuses == [200, 200, 200]
    assert fourth.status_code == 429
    assert "网络地址" in fourth.json()["message"]


def test_with_redis_stopped_the_chat_still_answers(
    warm_stack: Stack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = app_settings(warm_stack, tmp_path, rate_limit="1/minute")
    settings.chat.rate_storage = stopped_redis()
    citizen = f"test-{uuid.uuid4().hex[:12]}"

    with caplog.at_level(logging.WARNING, logger="api.ratelimit"), serve_api(settings) as api:
        responses = [ask(api, citizen, "个人创业担保贷款最高能贷多少？") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "30万元" in responses[-1].json()["answer"]
    assert len([r for r in caplog.records if r.name == "api.ratelimit"]) == 1
