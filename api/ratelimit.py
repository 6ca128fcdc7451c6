"""Rate limits per session and per client address, from the ``limits`` library (memory or Redis storage).

When the storage is unreachable, limits fail open: requests are answered, one warning says so, and the
storage is tried again after a pause (not on every request, which would add a timeout to each).
"""

from __future__ import annotations

import logging
import threading
import time

from limits import RateLimitItem
from limits import parse as parse_limit
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from .errors import RateLimited

log = logging.getLogger(__name__)

RETRY_STORAGE_S = 5.0  # after a storage failure, limits stay open this long before Redis is tried again
REDIS_TIMEOUT_S = 0.5  # a Redis that does not answer in this long counts as down
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")


class RateStorage:
    """One limits storage shared by every limiter of the process, with the fail-open bookkeeping."""

    def __init__(self, uri: str = "memory://") -> None:
        options = {"socket_timeout": REDIS_TIMEOUT_S, "socket_connect_timeout": REDIS_TIMEOUT_S}
        if not uri.startswith(REDIS_SCHEMES):
            options = {}
        try:
            storage = storage_from_string(uri, wrap_exceptions=True, **options)
        except Exception as error:  # noqa: BLE001 - limits raises several kinds for a bad URI
            raise ValueError(f"POLICY_CHAT__RATE_STORAGE is not a usable limits storage URI: {uri!r}") from error
        if not isinstance(storage, Storage):  # async+… storages need an event loop per call: not for this class
            raise ValueError(f"POLICY_CHAT__RATE_STORAGE must be a synchronous limits storage, not {uri!r}")
        self.storage = storage
        self.uri = uri
        self.limiter = MovingWindowRateLimiter(self.storage)
        self._open_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    def hit(self, rule: RateLimitItem, namespace: str, key: str) -> bool:
        """Whether this hit is within the rule; True (fail open) while the storage is down."""
        if time.monotonic() < self._open_until:
            return True
        try:
            allowed = self.limiter.hit(rule, namespace, key)
        except StorageError as error:
            self._failed(error)
            return True
        if self._down:
            with self._lock:
                if self._down:
                    self._down = False
                    log.warning("rate-limit storage reachable again: limits apply")
        return allowed

    def _failed(self, error: StorageError) -> None:
        with self._lock:
            self._open_until = time.monotonic() + RETRY_STORAGE_S
            if not self._down:  # one line per outage, not one per request
                self._down = True
                log.warning("rate-limit storage unreachable, limits are off until it is back: %s", error)


class RateLimiter:
    """A moving-window limit per key (a channel user, a client address) in one namespace."""

    def __init__(
        self,
        rule: str,
        storage: RateStorage | str = "memory://",
        namespace: str = "chat",
        message: str = "提问太频繁了，请稍等一分钟再试。",
    ) -> None:
        try:
            self.rule = parse_limit(rule)
        except ValueError as error:
            raise ValueError(f"not a rate limit (limits syntax, e.g. 30/minute): {rule!r}") from error
        self.storage = storage if isinstance(storage, RateStorage) else RateStorage(storage)
        self.namespace = namespace
        self.message = message

    def check(self, key: str) -> None:
        """Count a hit for ``key``; :class:`RateLimited` when the limit is reached."""
        if not self.storage.hit(self.rule, self.namespace, key):
            raise RateLimited(self.message)
