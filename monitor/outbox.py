"""The work-order desk: files an order in the store, or keeps it in an outbox while the database is down.

The outbox is a spool (one fsynced file per process); a background thread replays it and collects the
numbers of orders that landed late, so the next reply in that conversation can tell the citizen.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from .spool import ReplayReport, Spool
from .workorders import WorkOrder, WorkOrderRequest, WorkOrderStore, WorkOrderUnavailable, session_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filing:
    """What became of a request: stored (with its order), kept in the outbox, or neither."""

    order: WorkOrder | None = None
    kept: bool = False  # in the outbox: the number comes once the database takes it


class WorkOrderDesk:
    """One per process: files work orders and tells the numbers of late ones."""

    def __init__(self, store: WorkOrderStore, outbox: Path, replay_interval_s: float = 5.0) -> None:
        if replay_interval_s <= 0:
            raise ValueError("replay_interval_s must be positive")
        self.store = store
        self.outbox = Spool(outbox)
        self.replay_interval_s = replay_interval_s
        self._lock = threading.Lock()
        self._notices: dict[str, list[str]] = {}  # session → late numbers not yet told (as last seen)
        # the database failed: file straight to the outbox (a reply must not wait on a dead database's timeouts)
        # until a replay gets everything through
        self._down = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="work-order-outbox", daemon=True)
        self._thread.start()

    def file(self, request: WorkOrderRequest) -> Filing:
        """Store the order; when the database cannot take it, keep it in the outbox (fsynced)."""
        if not self._down.is_set():
            try:
                return Filing(order=self.store.create(request))
            except WorkOrderUnavailable as error:
                self._down.set()
                log.error("work order kept in the outbox: %s", error.message)
        try:
            self.outbox.append([request.record()])
        except OSError:
            log.exception("work order lost: neither the database nor the outbox %s took it", self.outbox.own)
            return Filing()
        return Filing(kept=True)

    def has_notices(self, sender_id: str) -> bool:
        """Whether this conversation has late numbers to tell (an in-memory look-up, no database)."""
        with self._lock:
            return bool(self._notices) and session_key(sender_id) in self._notices

    def notices(self, sender_id: str) -> list[str]:
        """Numbers of this conversation's orders that landed late; each is told once (across processes)."""
        session = session_key(sender_id)
        with self._lock:
            numbers = self._notices.pop(session, [])
        told = []
        for number in numbers:
            try:
                if self.store.claim_notice(number):
                    told.append(number)
            except Exception:  # noqa: BLE001 - the database is down again: tell them on a later turn
                log.warning("late work order %s not announced yet", number)
                with self._lock:
                    self._notices.setdefault(session, []).append(number)
        return told

    def replay(self) -> ReplayReport:
        """Store what waits in the outbox (every process's), then refresh the late numbers to tell."""
        report = self.outbox.replay(WorkOrderRequest.from_record, self._land)
        if report.applied:
            log.info("work orders: %d from the outbox stored", report.applied)
        fresh = self.store.pending_notices()
        with self._lock:
            self._notices = fresh
        if not report.kept:
            self._down.clear()
        return report

    def close(self, timeout: float = 5.0) -> None:
        """Stop the replay thread (the outbox stays on disk for the next start)."""
        self._stop.set()
        self._thread.join(timeout)

    def _land(self, request: WorkOrderRequest) -> None:
        order = self.store.create(request, late=True)
        log.info("work order %s stored from the outbox", order.number)

    def _loop(self) -> None:
        while True:
            try:
                self.replay()
            except Exception:  # noqa: BLE001 - the database is still down: the next round tries again
                log.debug("work-order outbox replay deferred", exc_info=True)
            if self._stop.wait(self.replay_interval_s):
                return
