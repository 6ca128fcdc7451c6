"""Short-lived shared keys: WeChat nonces and MsgIds, in Redis when configured (every API process sees them).

``claim`` is true for the first caller of a key only (Redis ``SET NX EX``). Without Redis the keys live in
this process's memory; when Redis is down they fall back to memory too, with one log line per outage, so
a Redis hiccup neither stops WeChat nor turns into a 500.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

MAX_MEMORY_KEYS = 100_000  # oldest dropped first: a memory store must not grow without bound
RETRY_REDIS_S = 5.0
REDIS_TIMEOUT_S = 0.5
PREFIX = "policy-assistant:"


class MemoryKeys:
    """Keys with an expiry in this process."""

    def __init__(self, capacity: int = MAX_MEMORY_KEYS) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def get(self, key: str) -> str | None:
        entry = self._keys.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._keys[key]
            return None
        return entry[1]

    def claim(self, key: str, value: str, ttl_s: float) -> bool:
        if self.get(key) is not None:
            return False
        self.put(key, value, ttl_s)
        return True

    def put(self, key: str, value: str, ttl_s: float) -> None:
        self._keys[key] = (time.monotonic() + ttl_s, value)
        self._keys.move_to_end(key)
        while len(self._keys) > self.capacity:
            self._keys.popitem(last=False)


class SharedKeys:
    """Redis keys shared by the API processes (``redis_url``), or memory keys (``redis_url`` None)."""

    def __init__(self, redis_url: str | None = None) -> None:
        self.memory = MemoryKeys()
        self.redis: aioredis.Redis | None = None
        if redis_url:
            url = redis_url.replace("redis+unix://", "unix://", 1)
            self.redis = aioredis.from_url(
                url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S, decode_responses=True
            )
        self._memory_until = 0.0
        self._down = False

    @classmethod
    def for_storage(cls, uri: str) -> SharedKeys:
        """Keys kept where the rate limits are (``POLICY_CHAT__RATE_STORAGE``): Redis, or this process's memory."""
        if uri.startswith(("redis://", "rediss://", "redis+unix://")):
            return cls(uri)
        if uri.startswith("memory://"):
            return cls(None)
        raise ValueError(f"POLICY_CHAT__RATE_STORAGE must be memory:// or a redis:// URL, not {uri!r}")

    async def claim(self, key: str, value: str, ttl_s: float) -> bool:
        """Set ``key`` unless it exists; True when this caller set it."""
        if (client := self._client()) is not None:
            try:
                claimed = await client.set(PREFIX + key, value, nx=True, px=int(ttl_s * 1000))
                self._reached()
                return bool(claimed)
            except RedisError as error:
                self._failed(error)
        return self.memory.claim(key, value, ttl_s)

    async def get(self, key: str) -> str | None:
        if (client := self._client()) is not None:
            try:
                found = await client.get(PREFIX + key)
                self._reached()
                return None if found is None else str(found)
            except RedisError as error:
                self._failed(error)
        return self.memory.get(key)

    async def put(self, key: str, value: str, ttl_s: float) -> None:
        """Set ``key`` whether it exists or not."""
        if (client := self._client()) is not None:
            try:
                await client.set(PREFIX + key, value, px=int(ttl_s * 1000))
                self._reached()
                return
            except RedisError as error:
                self._failed(error)
        self.memory.put(key, value, ttl_s)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()

    def _client(self) -> aioredis.Redis | None:
        if self.redis is None or time.monotonic() < self._memory_until:
            return None
        return self.redis

    def _reached(self) -> None:
        if self._down:
            self._down = False
            log.warning("Redis reachable again: WeChat nonces and MsgIds are shared again")

    def _failed(self, error: RedisError) -> None:
        self._memory_until = time.monotonic() + RETRY_REDIS_S
        if not self._down:
            log.warning("Redis unreachable, WeChat nonces and MsgIds are kept in this process meanwhile: %s", error)
        self._down = True
