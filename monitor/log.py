"""The conversation log: one row per turn, personal data masked, written without ever blocking a reply."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import re
import secrets
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from knowledge.db import open_engine
from knowledge.privacy import find_phones, mask_personal_data

from .migrations import MONITOR
from .schema import pending_feedback, turns
from .spool import ReplayReport, Spool

log = logging.getLogger(__name__)

MAX_STORED_ANSWER = 2000
# Rasa's message syntax for a button or feedback payload: /intent or /intent{"entity": "value"}
BUTTON_PAYLOAD = re.compile(r"^/[A-Za-z_][\w-]*(\{.*\})?$", re.DOTALL)


class ReplyKind(StrEnum):
    """What the assistant's reply was, as the reports count it."""

    ANSWER = "answer"
    NO_ANSWER = "no_answer"
    CLARIFY = "clarify"
    SMALLTALK = "smalltalk"
    OUT_OF_SCOPE = "out_of_scope"
    FORM = "form"
    HANDOFF = "handoff"
    COMPLAINT = "complaint"
    FEEDBACK = "feedback"  # the thanks or apology after 有用 / 没用
    ERROR = "error"  # the knowledge base or Rasa failed


# the action server's payload ``reply`` values that are answers from the knowledge base
_ANSWERING = frozenset({"answer", "validity", "interpretation", "contact"})
_SAME = {kind.value: kind for kind in ReplyKind}


def reply_kind(payload: Mapping[str, Any]) -> ReplyKind:
    """The log's reply kind for a bot payload (actions/payload.py's ``reply`` key)."""
    reply = str(payload.get("reply") or "")
    if reply in _ANSWERING:
        return ReplyKind.ANSWER if payload.get("answered") else ReplyKind.NO_ANSWER
    return _SAME.get(reply, ReplyKind.NO_ANSWER)  # not_understood, or no payload at all: nothing was answered


def button_choice(text: str) -> str | None:
    """The payload when a message is a button press or feedback (``/choose_document{…}``), else None."""
    text = text.strip()
    return text if BUTTON_PAYLOAD.match(text) else None


def load_or_create_salt(path: Path) -> str:
    """The install's own random salt, created once (mode 0600) when no salt is configured."""
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(salt)
    return salt


def hash_user(salt: str, channel: str, user_id: str) -> str:
    """Salted hash of a user id: turns of one user group together, the id itself is never stored."""
    return hashlib.sha256(f"{salt}\x1f{channel}\x1f{user_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Turn:
    """One message and the assistant's reply, as logged; a button press has ``choice`` and no question."""

    channel: str
    user_hash: str
    question: str
    answer: str = ""
    intent: str = ""
    confidence: float | None = None
    answered: bool = False
    cited_doc_ids: tuple[str, ...] = ()
    latency_ms: float | None = None
    handoff: bool = False
    turn_key: str | None = None
    reply_kind: str = ""
    work_order: str | None = None
    choice: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def masked(self) -> Turn:
        """The same turn with phone, ID-card and bank-card numbers masked.

        The answer quotes published documents, so its phone numbers are offices' lines and stay as quoted (a
        citizen's own number is masked by the action that echoes it back); ID and card numbers never stay."""
        return replace(
            self,
            question=mask_personal_data(self.question),
            answer=mask_personal_data(self.answer, keep=find_phones(self.answer))[:MAX_STORED_ANSWER],
            choice=mask_personal_data(self.choice) if self.choice else self.choice,
        )


class ConversationLog:
    """Synchronous access to the turns table (SQLite by default, PostgreSQL by URL).

    Constructing it touches no database, so a process starts while the log database is down; the schema is
    checked (and an empty database created) on first use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._ready = False

    @classmethod
    def open(cls, url: str) -> ConversationLog:
        """Open the log; a database that is down is reported and retried on use, an outdated one refused."""
        store = cls(open_engine(url))
        try:
            store.ensure()
        except OperationalError as error:
            reason = type(error).__name__
            log.warning("conversation log database unavailable at start (%s); turns wait in the spool", reason)
        return store

    def ensure(self) -> None:
        """Check the schema once: SchemaOutdated for an older database, OperationalError when it is down."""
        if not self._ready:
            MONITOR.ensure(self.engine)
            self._ready = True

    def close(self) -> None:
        self.engine.dispose()

    def write(self, turn: Turn) -> bool:
        """Insert a turn (masked); False when a turn with the same id or channel message id is already logged."""
        self.ensure()
        row = asdict(turn.masked())
        row["cited_doc_ids"] = json.dumps(list(turn.cited_doc_ids))
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(turns).values(**row))
                self._apply_pending(conn, turn.id)
        except IntegrityError:
            return False
        return True

    def set_feedback(self, turn_id: str, feedback: str) -> bool:
        """Record 有用 / 没用 on a turn; False when the turn is not written yet and the feedback waits for it."""
        self.ensure()
        with self.engine.begin() as conn:
            if conn.execute(update(turns).where(turns.c.id == turn_id).values(feedback=feedback)).rowcount:
                return True
            conn.execute(delete(pending_feedback).where(pending_feedback.c.turn_id == turn_id))
            conn.execute(insert(pending_feedback).values(turn_id=turn_id, feedback=feedback, at=datetime.now(UTC)))
        # the turn may have landed from another process between the update and the insert
        with self.engine.begin() as conn:
            if conn.execute(select(turns.c.id).where(turns.c.id == turn_id)).first() is None:
                return False
            self._apply_pending(conn, turn_id)
        return True

    def apply_pending_feedback(self) -> int:
        """Apply waiting feedback to turns that have landed since; returns how many were applied."""
        self.ensure()
        with self.engine.begin() as conn:
            landed = exists().where(turns.c.id == pending_feedback.c.turn_id)
            ids = list(conn.execute(select(pending_feedback.c.turn_id).where(landed)).scalars())
            for turn_id in ids:
                self._apply_pending(conn, turn_id)
        return len(ids)

    def _apply_pending(self, conn: Connection, turn_id: str) -> None:
        query = select(pending_feedback.c.feedback).where(pending_feedback.c.turn_id == turn_id)
        waiting = conn.execute(query).scalar_one_or_none()
        if waiting is not None:
            conn.execute(update(turns).where(turns.c.id == turn_id).values(feedback=waiting))
            conn.execute(delete(pending_feedback).where(pending_feedback.c.turn_id == turn_id))

    def set_handoff(self, turn_id: str) -> bool:
        """Mark a logged turn as handed to a person; False when no such turn exists."""
        self.ensure()
        with self.engine.begin() as conn:
            result = conn.execute(update(turns).where(turns.c.id == turn_id).values(handoff=True))
        return bool(result.rowcount)

    def count(self) -> int:
        """How many turns are logged."""
        self.ensure()
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(turns)).scalar_one())

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest turns, newest first, as plain dicts."""
        self.ensure()
        with self.engine.connect() as conn:
            rows = conn.execute(select(turns).order_by(turns.c.at.desc()).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    def get(self, turn_id: str) -> dict[str, Any] | None:
        """One logged turn as a dict, or None."""
        self.ensure()
        with self.engine.connect() as conn:
            row = conn.execute(select(turns).where(turns.c.id == turn_id)).first()
        return dict(row._mapping) if row else None


@dataclass(frozen=True)
class _Op:
    kind: str  # write | feedback | handoff
    payload: Any

    def record(self) -> dict[str, Any]:
        """The spool line: a write is masked before it touches the disk."""
        payload = asdict(self.payload.masked()) if self.kind == "write" else self.payload
        return {"kind": self.kind, "payload": payload}


class LogWriter:
    """Queues log writes for a background thread; what cannot be written waits in the spool, never dropped.

    The queue is bounded: when it is full, a turn goes straight to the spool. After a write fails every
    retry, later ones are spooled at once until a replay (a second thread, every ``replay_interval_s``)
    gets through. On close, whatever is still queued is spooled."""

    def __init__(
        self,
        log_store: ConversationLog,
        spool: Path,
        retries: int = 3,
        backoff_s: float = 0.2,
        max_queue: int = 10_000,
        replay_interval_s: float = 5.0,
    ) -> None:
        if retries < 1 or max_queue < 1 or replay_interval_s <= 0:
            raise ValueError("retries and max_queue must be at least 1, replay_interval_s positive")
        self.store = log_store
        self.spool = Spool(spool)
        self.retries = retries
        self.backoff_s = backoff_s
        self.replay_interval_s = replay_interval_s
        self._queue: queue.Queue[_Op] = queue.Queue(maxsize=max_queue)
        self._down = threading.Event()  # the database failed: spool at once, the replayer finds out when it is back
        self._stop = threading.Event()
        self._closed = False
        self._writer = threading.Thread(target=self._run, name="conversation-log", daemon=True)
        self._replayer = threading.Thread(target=self._replay_loop, name="conversation-log-replay", daemon=True)
        self._writer.start()
        self._replayer.start()

    def record(self, turn: Turn) -> None:
        """Queue a turn; returns at once."""
        self._put(_Op("write", turn))

    def feedback(self, turn_id: str, value: str) -> None:
        """Queue 有用 / 没用 for a turn (applied when the turn is written, if it is not yet)."""
        self._put(_Op("feedback", (turn_id, value)))

    def handoff(self, turn_id: str) -> None:
        """Queue the mark that a turn was handed to a person."""
        self._put(_Op("handoff", turn_id))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written (or spooled)."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def replay(self) -> ReplayReport:
        """Write what waits in the spool (every process's); called by the replay thread, and on demand."""
        report = self.spool.replay(_revive, self._apply)
        if report.applied:
            log.info("conversation log: %d spooled records written", report.applied)
        if not report.kept:
            self._down.clear()
            self.store.apply_pending_feedback()
        return report

    def close(self, timeout: float = 10.0) -> None:
        """Write (or spool) what is queued, stop the threads, spool anything still left."""
        self._closed = True
        self.flush(timeout)
        self._stop.set()
        self._writer.join(timeout)
        self._replayer.join(timeout)
        left: list[_Op] = []
        while True:
            try:
                left.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if left:
            self._spool(left)

    def _put(self, op: _Op) -> None:
        if self._closed:
            self._spool([op])
            return
        try:
            self._queue.put_nowait(op)
        except queue.Full:
            log.warning("conversation log queue full (%d): %s spooled", self._queue.maxsize, op.kind)
            self._spool([op])

    def _apply(self, op: _Op) -> None:
        if op.kind == "write":
            self.store.write(op.payload)
        elif op.kind == "feedback":
            self.store.set_feedback(*op.payload)
        else:
            self.store.set_handoff(op.payload)

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            try:
                op = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self._attempt(op)
            except Exception:  # noqa: BLE001 - the writer thread must outlive any single record
                log.exception("conversation log: %s could not be written or spooled", op.kind)
            finally:
                self._queue.task_done()

    def _attempt(self, op: _Op) -> None:
        if self._down.is_set():
            self._spool([op])
            return
        for attempt in range(1, self.retries + 1):
            try:
                self._apply(op)
                return
            except Exception as error:  # noqa: BLE001 - any failure: retry, then keep it in the spool
                log.warning("conversation log write failed (%d/%d): %s", attempt, self.retries, type(error).__name__)
                if attempt < self.retries:
                    time.sleep(self.backoff_s * attempt)
        self._down.set()
        self._spool([op])

    def _spool(self, ops: Sequence[_Op]) -> None:
        records = []
        for op in ops:
            try:
                records.append(op.record())
            except Exception:  # noqa: BLE001 - a record that cannot even be masked is reported, the rest kept
                log.exception("conversation log: a %s record could not be prepared for the spool", op.kind)
        try:
            self.spool.append(records)
        except OSError:
            log.exception("conversation log: %d records could not be spooled to %s", len(records), self.spool.own)
            return
        log.error("conversation log unavailable: %d records kept in %s for replay", len(records), self.spool.own)

    def _replay_loop(self) -> None:
        while True:
            try:
                if self.spool.files() or self._down.is_set():
                    self.replay()
            except Exception:  # noqa: BLE001 - the replayer tries again at the next interval
                log.exception("conversation log replay failed")
            if self._stop.wait(self.replay_interval_s):
                return


def _revive(record: dict[str, Any]) -> _Op:
    """A spool line back into an operation; KeyError / TypeError / ValueError mark a corrupt line."""
    kind, payload = record["kind"], record["payload"]
    if kind == "feedback":
        turn_id, value = payload
        return _Op(kind, (str(turn_id), str(value)))
    if kind == "handoff":
        return _Op(kind, str(payload))
    if kind != "write":
        raise ValueError(f"unknown record kind {kind!r}")
    values = dict(payload)
    values["at"] = datetime.fromisoformat(values["at"])
    values["cited_doc_ids"] = tuple(values["cited_doc_ids"])
    return _Op(kind, Turn(**values))


def cited_ids(citations: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """Document ids of the citations in a reply payload."""
    return tuple(str(c["doc_id"]) for c in citations if c.get("doc_id"))
