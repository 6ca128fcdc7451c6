"""Shared keys (WeChat nonces and MsgIds): claimed once across processes in Redis, in memory while it is down."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest

from api.seen import SharedKeys

from ..servers import free_port
from .conftest import REDIS_URL


def test_a_key_claimed_in_redis_is_taken_for_every_other_process() -> None:
    key = f"test:{uuid.uuid4().hex}"

    async def scenario() -> tuple[bool, bool, str | None]:
        first, second = SharedKeys(REDIS_URL), SharedKeys(REDIS_URL)
        try:
            return await first.claim(key, "pending", 5), await second.claim(key, "pending", 5), await second.get(key)
        finally:
            await first.close()
            await second.close()

    assert asyncio.run(scenario()) == (True, False, "pending")


def test_with_redis_stopped_keys_are_kept_in_memory_with_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> list[bool]:
        keys = SharedKeys(f"redis://127.0.0.1:{free_port()}/0")
        try:
            return [await keys.claim("nonce-1", "digest", 60) for _ in range(5)]
        finally:
            await keys.close()

    with caplog.at_level(logging.WARNING, logger="api.seen"):
        claims = asyncio.run(scenario())

    assert claims == [True, False, False, False, False]  # still refused twice: a replay is caught in this process
    assert len([r for r in caplog.records if r.name == "api.seen"]) == 1


def test_an_unsupported_storage_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="POLICY_CHAT__RATE_STORAGE"):
        SharedKeys.for_storage("memcached://127.0.0.1:11211")
