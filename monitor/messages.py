"""Citizen messages imported from 问政 platforms and mailboxes (xlsx, csv): masked, embedded once, never twice.

A message is keyed by its source (the file's stem unless given) and its 留言编号, so re-importing a file adds
nothing; a message whose user, 主题 and 详情 match one already stored under another key counts as a duplicate, and
so does the same 主题 and 详情 written within minutes under another user id (an export's copy of a message another
export holds; see SAME_MESSAGE_WINDOW): it is counted once, and a reply the copy carries is kept on the first.
Times are stored as the platform writes them: naive China local time. Each message is embedded once, on
arrival, from its 主题 and the first characters of its 详情; identical texts reuse the stored vector.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    select,
    update,
)

from knowledge.db import open_engine
from knowledge.embedding import Embedder
from knowledge.privacy import mask_personal_data

from .exports import _count, _external_id, _reason, clean_text, parse_time, read_rows
from .migrations import MONITOR
from .replies import reply_substance

metadata = MetaData()

messages_table = Table(
    "citizen_messages",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(128), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("user", String(64), nullable=False, default=""),
    Column("at", DateTime, nullable=False, index=True),  # naive China local time, as the platform writes it
    Column("title", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("likes", Integer, nullable=False, default=0),
    Column("dislikes", Integer, nullable=False, default=0),
    Column("reply", Text),
    Column("reply_at", DateTime),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("embed_hash", String(64), nullable=False, index=True),
    Column("model", String(128), nullable=False),
    Column("embedding", LargeBinary, nullable=False),  # float32, L2-normalised
    Column("reply_embedding", LargeBinary),
    Column("imported_at", DateTime, nullable=False),
    UniqueConstraint("source", "external_id", name="uq_citizen_messages_source_external_id"),
)

DEFAULT_EMBED_CHARS = 64
BATCH_ROWS = 256
# The same 主题 and 详情 written this close in time is one message, whatever user id it carries: the real exports
# hold such copies under two ids (messages_2019.xlsx and messages_with_replies.xlsx share 35 messages, 28 of them
# under different ids, one 4 minutes apart; messages_2019.xlsx itself repeats 19 to the second). Two residents
# copying one text for a campaign write it at different times, and still count as two.
SAME_MESSAGE_WINDOW = timedelta(minutes=10)
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Message:
    """One citizen message (and the department's reply, when the export carries one), personal data masked."""

    source: str
    external_id: str
    user: str
    at: datetime
    title: str
    detail: str
    likes: int = 0
    dislikes: int = 0
    reply: str | None = None
    reply_at: datetime | None = None

    @property
    def id(self) -> str:
        return message_key(self.source, self.external_id)

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.detail}"

    def embed_text(self, chars: int) -> str:
        """What the model reads: the 主题 and the start of the 详情."""
        return f"{self.title}。{self.detail}"[: max(chars, len(self.title) + 1)]

    @property
    def content_hash(self) -> str:
        return _digest(self.user, self.title, self.detail)


@dataclass(frozen=True)
class StoredText:
    """What the import compares an arriving message with: a stored (or already accepted) message's text and time."""

    id: str
    content_hash: str
    title: str
    detail: str
    at: datetime
    replied: bool

    def repeats(self, message: Message) -> bool:
        """The same user's text at any time, or the same 主题 + 详情 within SAME_MESSAGE_WINDOW."""
        if self.content_hash == message.content_hash:
            return True
        same_text = self.title == message.title and self.detail == message.detail
        return same_text and abs(self.at - message.at) <= SAME_MESSAGE_WINDOW


@dataclass(frozen=True)
class BadRow:
    """A row that could not be imported as it is, with what was done about it."""

    row: int
    reason: str
    external_id: str | None = None
    skipped: bool = True


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows read, messages added, rows already there, duplicates, bad rows."""

    path: str
    source: str
    rows: int = 0
    added: int = 0
    already_imported: int = 0
    duplicates: int = 0
    embedded: int = 0
    reused_vectors: int = 0
    bad_rows: tuple[BadRow, ...] = ()


@dataclass
class _Tally:
    rows: int = 0
    added: int = 0
    already_imported: int = 0
    duplicates: int = 0
    embedded: int = 0
    reused_vectors: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)


def message_key(source: str, external_id: str) -> str:
    """The stable id of a message: its source and 留言编号."""
    return _digest(source, external_id)[:32]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def row_to_message(source: str, row: dict[str, Any], row_number: int) -> tuple[Message | None, list[BadRow]]:
    """One row as a masked message, or None with the reason; a bad 答复时间 keeps the message, without it."""
    external_id = _external_id(row.get("留言编号"))
    if not external_id:
        return None, [BadRow(row_number, "缺少留言编号")]
    title, detail = clean_text(row.get("留言主题")), clean_text(row.get("留言详情"))
    if not title and not detail:
        return None, [BadRow(row_number, "留言主题和留言详情都为空", external_id)]
    try:
        at = parse_time(row.get("留言时间"))
    except ValueError as error:
        return None, [BadRow(row_number, f"留言时间有误：{_reason(error, row.get('留言时间'))}", external_id)]
    try:
        likes, dislikes = _count(row.get("点赞数"), "点赞数"), _count(row.get("反对数"), "反对数")
    except ValueError as error:
        return None, [BadRow(row_number, str(error), external_id)]
    problems: list[BadRow] = []
    reply = clean_text(row.get("答复意见")) or None
    reply_at: datetime | None = None
    if reply is not None and clean_text(row.get("答复时间")):
        try:
            reply_at = parse_time(row.get("答复时间"))
        except ValueError as error:
            reason = _reason(error, row.get("答复时间"))
            problems.append(BadRow(row_number, f"答复时间有误，已导入留言，答复时间置空：{reason}", external_id, False))
        if reply_at is not None and reply_at < at:
            problems.append(BadRow(row_number, "答复时间早于留言时间，已导入留言，答复时间置空", external_id, False))
            reply_at = None
    message = Message(
        source=source,
        external_id=mask_personal_data(external_id),
        user=mask_personal_data(clean_text(row.get("留言用户"))),
        at=at,
        title=mask_personal_data(title or detail[:40]),
        detail=mask_personal_data(detail),
        likes=likes,
        dislikes=dislikes,
        reply=mask_personal_data(reply) if reply else None,
        reply_at=reply_at,
    )
    return message, problems


def _to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


class MessageStore:
    """The imported messages and their vectors (SQLite by default, PostgreSQL by URL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        MONITOR.ensure(engine)  # revision 0003 creates the table; an older database is refused (SchemaOutdated)

    @classmethod
    def open(cls, url: str) -> MessageStore:
        return cls(open_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(messages_table)).scalar_one())

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        with self.engine.connect() as conn:
            return set(conn.execute(select(messages_table.c.id).where(messages_table.c.id.in_(wanted))).scalars())

    def repeated(self, content_hashes: Iterable[str], embed_hashes: Iterable[str]) -> list[StoredText]:
        """Stored messages an arriving batch may repeat: the same user and text (content hash), or the same text
        start (embed hash: the same 主题 + 详情 always has it, whatever the user), in one indexed query."""
        t = messages_table.c
        contents, starts = list(set(content_hashes)), list(set(embed_hashes))
        query = select(t.id, t.content_hash, t.title, t.detail, t.at, t.reply.is_not(None)).where(
            t.content_hash.in_(contents) | t.embed_hash.in_(starts)
        )
        with self.engine.connect() as conn:
            return [StoredText(*row) for row in conn.execute(query)]

    def known_vectors(self, embed_hashes: Iterable[str], model: str) -> dict[str, bytes]:
        """Stored vectors of texts already embedded with this model, by text hash."""
        wanted, t = list(set(embed_hashes)), messages_table.c
        query = select(t.embed_hash, t.embedding).where(t.embed_hash.in_(wanted), t.model == model)
        with self.engine.connect() as conn:
            return {h: blob for h, blob in conn.execute(query)}

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert prepared rows (the table's columns) in one transaction."""
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(messages_table), list(rows))

    def attach_replies(self, replies: Sequence[tuple[str, Message, bytes]]) -> None:
        """Give stored messages (by id) the reply a later export carries, in one transaction."""
        if not replies:
            return
        t = messages_table.c
        query = (
            update(messages_table)
            .where(t.id == bindparam("key"), t.reply.is_(None))
            .values(reply=bindparam("new_reply"), reply_at=bindparam("new_reply_at"), reply_embedding=bindparam("blob"))
        )
        rows = [
            {"key": key, "new_reply": m.reply, "new_reply_at": m.reply_at, "blob": blob} for key, m, blob in replies
        ]
        with self.engine.begin() as conn:
            conn.execute(query, rows)

    def load(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        replied_only: bool = False,
        source: str | None = None,
    ) -> tuple[list[Message], np.ndarray]:
        """Messages with start <= at < end (of one source, if given) in time order, and their vectors as a matrix."""
        t = messages_table.c
        columns = [t.source, t.external_id, t.user, t.at, t.title, t.detail, t.likes, t.dislikes, t.reply, t.reply_at]
        query = select(*columns, t.embedding).order_by(t.at, t.id)
        if start is not None:
            query = query.where(t.at >= start)
        if end is not None:
            query = query.where(t.at < end)
        if replied_only:
            query = query.where(t.reply.is_not(None))
        if source is not None:
            query = query.where(t.source == source)
        messages: list[Message] = []
        blobs: list[bytes] = []
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                messages.append(Message(*row[:-1]))
                blobs.append(row[-1])
        if not blobs:
            return messages, np.zeros((0, 0), np.float32)
        return messages, np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)

    def reply_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored reply vectors of these messages (those that carry a reply)."""
        t = messages_table.c
        found: dict[str, np.ndarray] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                query = select(t.id, t.reply_embedding).where(t.id.in_(ids[start : start + 500]))
                for key, blob in conn.execute(query.where(t.reply_embedding.is_not(None))):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found


def message_row(
    message: Message, model: str, embed_hash: str, vector: bytes, reply_vector: bytes | None
) -> dict[str, Any]:
    """The table row of a message and its vectors."""
    return {
        "id": message.id,
        "source": message.source,
        "external_id": message.external_id,
        "user": message.user,
        "at": message.at,
        "title": message.title,
        "detail": message.detail,
        "likes": message.likes,
        "dislikes": message.dislikes,
        "reply": message.reply,
        "reply_at": message.reply_at,
        "content_hash": message.content_hash,
        "embed_hash": embed_hash,
        "model": model,
        "embedding": vector,
        "reply_embedding": reply_vector,
        "imported_at": datetime.now().replace(microsecond=0),
    }


def _reply_text(message: Message, chars: int) -> str:
    return reply_substance(message.reply or "")[: chars * 2]


def _store_batch(store: MessageStore, batch: list[Message], embedder: Embedder, chars: int, tally: _Tally) -> None:
    """Add a batch's new messages; a repeat of a stored or earlier one is counted once, its reply kept."""
    known = store.known_ids(m.id for m in batch)
    fresh = [m for m in batch if m.id not in known]
    tally.already_imported += len(batch) - len(fresh)
    starts = {m.id: _digest(m.embed_text(chars)) for m in fresh}
    earlier: dict[str, list[StoredText]] = defaultdict(list)  # by 主题: what an arriving message may repeat
    for stored in store.repeated((m.content_hash for m in fresh), starts.values()):
        earlier[stored.title].append(stored)
    unique: dict[str, Message] = {}
    late_replies: dict[str, Message] = {}  # stored id → the repeat that brings the reply it lacks
    for message in fresh:
        first = next((s for s in earlier[message.title] if s.repeats(message)), None)
        if first is None:
            earlier[message.title].append(_as_stored(message))
            unique[message.id] = message
            continue
        tally.duplicates += 1
        if not message.reply or first.replied:
            continue
        # the same message from a platform that carries its reply: keep the reply on the first copy
        earlier[message.title][earlier[message.title].index(first)] = replace(first, replied=True)
        if first.id in unique:
            unique[first.id] = replace(unique[first.id], reply=message.reply, reply_at=message.reply_at)
        else:
            late_replies[first.id] = message
    rows = _embedded_rows(store, list(unique.values()), starts, embedder, chars, tally)
    store.add(rows)
    replies = list(dict.fromkeys(_reply_text(m, chars) for m in late_replies.values()))
    blobs = dict(zip(replies, map(_to_blob, embedder.embed_passages(replies)), strict=True)) if replies else {}
    store.attach_replies([(key, m, blobs[_reply_text(m, chars)]) for key, m in late_replies.items()])
    tally.embedded += len(replies)


def _as_stored(message: Message) -> StoredText:
    return StoredText(message.id, message.content_hash, message.title, message.detail, message.at, bool(message.reply))


def _embedded_rows(
    store: MessageStore,
    unique: list[Message],
    starts: dict[str, str],
    embedder: Embedder,
    chars: int,
    tally: _Tally,
) -> list[dict[str, Any]]:
    """Table rows of new messages: each distinct text start embedded once (or its stored vector reused), and each
    distinct reply once (a form reply repeats word for word)."""
    if not unique:
        return []
    texts = {starts[m.id]: m.embed_text(chars) for m in unique}
    vectors = store.known_vectors(texts, embedder.name)
    missing = [h for h in texts if h not in vectors]
    if missing:
        for h, vector in zip(missing, embedder.embed_passages([texts[h] for h in missing]), strict=True):
            vectors[h] = _to_blob(vector)
    replies = list(dict.fromkeys(_reply_text(m, chars) for m in unique if m.reply))
    reply_vectors = dict(zip(replies, map(_to_blob, embedder.embed_passages(replies)), strict=True)) if replies else {}
    rows = []
    for m in unique:
        reply_vector = reply_vectors[_reply_text(m, chars)] if m.reply else None
        rows.append(message_row(m, embedder.name, starts[m.id], vectors[starts[m.id]], reply_vector))
    tally.embedded += len(missing) + len(replies)
    tally.reused_vectors += len(unique) - len(missing)
    tally.added += len(unique)
    return rows


def import_messages(
    store: MessageStore,
    path: Path,
    embedder: Embedder,
    progress: Progress | None = None,
    source: str | None = None,
    embed_chars: int = DEFAULT_EMBED_CHARS,
) -> ImportReport:
    """Import an xlsx or csv export: bad rows reported, rows already imported or duplicated skipped."""
    path = Path(path)
    source = source or path.stem
    total, rows = read_rows(path)
    tally = _Tally()
    batch: list[Message] = []
    seen: dict[str, str] = {}  # 留言编号 → content hash within this file
    for number, row in rows:
        tally.rows += 1
        message, problems = row_to_message(source, row, number)
        tally.bad_rows.extend(problems)
        if message is not None and seen.get(message.external_id, message.content_hash) != message.content_hash:
            tally.bad_rows.append(BadRow(number, "留言编号在文件中重复且内容不同，未导入", message.external_id))
        elif message is not None and message.external_id not in seen:
            seen[message.external_id] = message.content_hash
            batch.append(message)
        elif message is not None:
            tally.already_imported += 1  # the same row twice in one file
        if len(batch) >= BATCH_ROWS:
            _store_batch(store, batch, embedder, embed_chars, tally)
            batch = []
            if progress is not None:
                progress(tally.rows, total)
    _store_batch(store, batch, embedder, embed_chars, tally)
    if progress is not None:
        progress(tally.rows, total)
    return ImportReport(
        path=str(path),
        source=source,
        rows=tally.rows,
        added=tally.added,
        already_imported=tally.already_imported,
        duplicates=tally.duplicates,
        embedded=tally.embedded,
        reused_vectors=tally.reused_vectors,
        bad_rows=tuple(tally.bad_rows),
    )
