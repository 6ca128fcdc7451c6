"""The conversation log: one row per turn, personal data masked, written without ever blocking a reply."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from knowledge.db import open_engine
from knowledge.privacy import mask_personal_data

log = logging.getLogger(__name__)

metadata = MetaData()

turns = Table(
    "conversation_turns",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("user_hash", String(64), nullable=False, index=True),
    Column("turn_key", String(128), unique=True),  # a channel's own message id: retries log once
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False, default=""),
    Column("intent", String(64), nullable=False, default=""),
    Column("confidence", Float),
    Column("answered", Boolean, nullable=False, default=False),
    Column("cited_doc_ids", Text, nullable=False, default="[]"),
    Column("latency_ms", Float),
    Column("feedback", String(16)),
    Column("handoff", Boolean, nullable=False, default=False),
)

MAX_STORED_ANSWER = 2000


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
    """One question and the assistant's reply, as logged."""

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
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def masked(self) -> Turn:
        """The same turn with phone, ID-card and bank-card numbers masked."""
        return replace(
            self, question=mask_personal_data(self.question), answer=mask_personal_data(self.answer)[:MAX_STORED_ANSWER]
        )


class ConversationLog:
    """Synchronous access to the turns table (SQLite by default, PostgreSQL by URL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    @classmethod
    def open(cls, url: str) -> ConversationLog:
        return cls(open_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    def write(self, turn: Turn) -> bool:
        """Insert a turn (masked); False when a turn with the same channel message id is already logged."""
        row = asdict(turn.masked())
        row["cited_doc_ids"] = json.dumps(list(turn.cited_doc_ids))
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(turns).values(**row))
        except IntegrityError:
            return False
        return True

    def set_feedback(self, turn_id: str, feedback: str) -> bool:
        """Record 有用 / 没用 on a logged turn; False when no such turn exists."""
        with self.engine.begin() as conn:
            result = conn.execute(update(turns).where(turns.c.id == turn_id).values(feedback=feedback))
        return bool(result.rowcount)

    def set_handoff(self, turn_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(update(turns).where(turns.c.id == turn_id).values(handoff=True))
        return bool(result.rowcount)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(turns)).scalar_one())

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest turns, newest first, as plain dicts."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(turns).order_by(turns.c.at.desc()).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    def get(self, turn_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(turns).where(turns.c.id == turn_id)).first()
        return dict(row._mapping) if row else None


@dataclass(frozen=True)
class _Op:
    kind: str  # write | feedback | handoff
    payload: Any
    attempts: int = 0


class LogWriter:
    """Queues log writes on a background thread; failures are retried, then spooled to a file, never dropped."""

    def __init__(self, log_store: ConversationLog, spool: Path, retries: int = 5, backoff_s: float = 0.2) -> None:
        if retries < 1:
            raise ValueError("retries must be at least 1")
        self.store = log_store
        self.spool = spool
        self.retries = retries
        self.backoff_s = backoff_s
        self._queue: queue.Queue[_Op | None] = queue.Queue()
        self._replay_spool()
        self._thread = threading.Thread(target=self._run, name="conversation-log", daemon=True)
        self._thread.start()

    def record(self, turn: Turn) -> None:
        """Queue a turn; returns at once."""
        self._queue.put(_Op("write", turn))

    def feedback(self, turn_id: str, value: str) -> None:
        self._queue.put(_Op("feedback", (turn_id, value)))

    def handoff(self, turn_id: str) -> None:
        self._queue.put(_Op("handoff", turn_id))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written (or spooled)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def close(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        self._queue.put(None)
        self._thread.join(timeout)

    def _apply(self, op: _Op) -> None:
        if op.kind == "write":
            self.store.write(op.payload)
        elif op.kind == "feedback":
            self.store.set_feedback(*op.payload)
        else:
            self.store.set_handoff(op.payload)

    def _run(self) -> None:
        while True:
            op = self._queue.get()
            try:
                if op is None:
                    return
                self._attempt(op)
            finally:
                self._queue.task_done()

    def _attempt(self, op: _Op) -> None:
        for attempt in range(1, self.retries + 1):
            try:
                self._apply(op)
                return
            except SQLAlchemyError as error:
                log.warning("conversation log write failed (attempt %d/%d): %s", attempt, self.retries, error)
                time.sleep(self.backoff_s * attempt)
        self._spool(op)

    def _spool(self, op: _Op) -> None:
        """Keep what could not be written; it is replayed on the next start."""
        payload = asdict(op.payload.masked()) if op.kind == "write" else op.payload
        self.spool.parent.mkdir(parents=True, exist_ok=True)
        with open(self.spool, "a", encoding="utf-8") as out:
            out.write(json.dumps({"kind": op.kind, "payload": payload}, ensure_ascii=False, default=str) + "\n")
        log.error("conversation log unavailable: %s kept in %s for replay", op.kind, self.spool)

    def _replay_spool(self) -> None:
        """Write what an earlier run could not; whatever still fails stays in the spool."""
        if not self.spool.is_file():
            return
        failed = []
        for line in self.spool.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            try:
                self._apply(_Op(record["kind"], _revive(record["kind"], record["payload"])))
            except SQLAlchemyError:
                failed.append(line)
        tmp = self.spool.with_suffix(".tmp")
        tmp.write_text("".join(f"{line}\n" for line in failed), encoding="utf-8")
        tmp.replace(self.spool)
        if not failed:
            self.spool.unlink()


def _revive(kind: str, payload: Any) -> Any:
    if kind != "write":
        return tuple(payload) if isinstance(payload, list) else payload
    payload["at"] = datetime.fromisoformat(payload["at"])
    payload["cited_doc_ids"] = tuple(payload["cited_doc_ids"])
    return Turn(**payload)


def cited_ids(citations: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """Document ids of the citations in a reply payload."""
    return tuple(str(c["doc_id"]) for c in citations if c.get("doc_id"))
