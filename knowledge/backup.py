"""Backup of the whole knowledge base with its history: export to a folder, import into an empty store.

A backup folder holds ``documents.jsonl`` (each current document with its version number and last change),
``versions.jsonl`` (every version of every document, deleted and retired ones included, in the order written,
with who made it and when) and ``manifest.json``, written last, with the counts and each file's SHA-256: a
folder without a manifest is an export that did not finish. Import checks everything before writing anything,
writes in one transaction, refuses a store that is not empty, and rebuilds the index from what it wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from .document import document_from_record, document_record
from .errors import KnowledgeError
from .migrations import KNOWLEDGE
from .store import DocumentStore, StoredDocument, StoreNotEmpty, Version
from .writer import KnowledgeWriter, Progress

FORMAT = "policy-knowledge-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DOCUMENTS = "documents.jsonl"
VERSIONS = "versions.jsonl"
EXPORT_ATTEMPTS = 3  # a write landing during an export makes it start again, this many times at most

T = TypeVar("T")


class BackupError(KnowledgeError):
    """A backup folder that cannot be written or read; the message says what is wrong with it."""

    code = "backup_error"
    status = 422


@dataclass(frozen=True)
class Manifest:
    """What a backup holds and how to tell it arrived whole."""

    exported_at: datetime
    schema_revision: str
    documents: int
    versions: int
    sha256: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "exported_at": self.exported_at.isoformat(),
            "schema_revision": self.schema_revision,
            "documents": self.documents,
            "versions": self.versions,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Backup:
    """A backup read back and checked: its manifest, current documents and full history."""

    manifest: Manifest
    documents: list[StoredDocument]
    versions: list[Version]


# -- export ------------------------------------------------------------------------------------------------


def _document_line(item: StoredDocument) -> dict[str, Any]:
    document = json.loads(document_record(item.document))
    return {"document": document, "version": item.version, "updated_at": item.updated_at.isoformat()}


def _version_line(v: Version) -> dict[str, Any]:
    return {
        "doc_id": v.doc_id,
        "version": v.version,
        "action": v.action,
        "note": v.note,
        "actor": v.actor,
        "changed_at": v.changed_at.isoformat(),
        "document": json.loads(document_record(v.document)),
    }


def _write_lines(path: Path, lines: Iterable[dict[str, Any]], progress: Progress | None, total: int) -> str:
    """Write JSON lines, fsynced; returns their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for number, line in enumerate(lines, 1):
            data = (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
            digest.update(data)
            out.write(data)
            if progress and (number % 200 == 0 or number == total):
                progress(number, total, path.stem)
        _sync(out)
    return digest.hexdigest()


def _sync(out: IO[bytes]) -> None:
    out.flush()
    os.fsync(out.fileno())


def _check_target(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise BackupError(f"{directory} 不是文件夹")
    if directory.is_dir() and any(directory.iterdir()):
        raise BackupError(f"{directory} 不是空文件夹：请导出到一个新的或空的文件夹，不覆盖已有的备份")


def export_backup(store: DocumentStore, directory: Path, progress: Progress | None = None) -> Manifest:
    """Write every current document and every version to ``directory`` (new or empty); a write that lands
    meanwhile makes the export start again, so the backup is one consistent state."""
    _check_target(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for _ in range(EXPORT_ATTEMPTS):
        revision = store.revision()
        documents, versions = list(store.stored()), list(store.versions())
        if store.revision() == revision:
            break
    else:
        raise BackupError("导出期间知识库一直在被修改，请在没有导入或编辑时重试")
    sha256 = {
        DOCUMENTS: _write_lines(directory / DOCUMENTS, map(_document_line, documents), progress, len(documents)),
        VERSIONS: _write_lines(directory / VERSIONS, map(_version_line, versions), progress, len(versions)),
    }
    manifest = Manifest(datetime.now(UTC), KNOWLEDGE.head, len(documents), len(versions), sha256)
    with (directory / MANIFEST).open("wb") as out:
        out.write(json.dumps(manifest.as_json(), ensure_ascii=False, indent=2).encode("utf-8"))
        _sync(out)
    return manifest


# -- import ------------------------------------------------------------------------------------------------


def _read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} 中没有 {MANIFEST}：不是备份文件夹，或导出没有完成")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise BackupError(f"{path} 不是知识库备份（format 应为 {FORMAT}）")
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"{path} 的备份格式版本 {data.get('format_version')} 无法读取（支持 {FORMAT_VERSION}）")
        return Manifest(
            datetime.fromisoformat(data["exported_at"]),
            str(data["schema_revision"]),
            int(data["documents"]),
            int(data["versions"]),
            {name: str(data["sha256"][name]) for name in (DOCUMENTS, VERSIONS)},
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise BackupError(f"{path} 无法解析：{error}") from None


def _lines(directory: Path, name: str, expected_sha256: str) -> Iterator[tuple[int, dict[str, Any]]]:
    path = directory / name
    if not path.is_file():
        raise BackupError(f"备份缺少 {name}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise BackupError(f"{name} 与 {MANIFEST} 记录的校验值不符：备份已损坏或被改动")
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            raise BackupError(f"{name} 第{number}行无法解析：{error}") from None


def _parse(name: str, number: int, build: Any, line: dict[str, Any]) -> Any:
    try:
        return build(line)
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{name} 第{number}行无效：{error}") from None


def _stored(line: dict[str, Any]) -> StoredDocument:
    document = document_from_record(json.dumps(line["document"], ensure_ascii=False))
    return StoredDocument(document, int(line["version"]), datetime.fromisoformat(line["updated_at"]))


def _version(line: dict[str, Any]) -> Version:
    document = document_from_record(json.dumps(line["document"], ensure_ascii=False))
    when = datetime.fromisoformat(line["changed_at"])
    return Version(line["doc_id"], int(line["version"]), line["action"], line["note"], when, document, line["actor"])


def _check_consistent(backup: Backup) -> None:
    """Each current document is the last version of its history, with the same number."""
    last: dict[str, Version] = {}
    for v in backup.versions:
        if v.doc_id in last and v.version <= last[v.doc_id].version:
            raise BackupError(f"{VERSIONS} 中 {v.doc_id} 的版本 {v.version} 重复或顺序错乱")
        last[v.doc_id] = v
    for item in backup.documents:
        latest = last.get(item.document.id)
        if latest is None or latest.version != item.version or latest.document != item.document:
            raise BackupError(f"{DOCUMENTS} 中 {item.document.id} 与它在 {VERSIONS} 中的最后一个版本不一致")


def read_backup(directory: Path, progress: Progress | None = None) -> Backup:
    """Read and check a whole backup (manifest, checksums, every line, counts, consistency) before any write."""
    manifest = _read_manifest(directory)
    documents = [
        _parse(DOCUMENTS, n, _stored, line) for n, line in _lines(directory, DOCUMENTS, manifest.sha256[DOCUMENTS])
    ]
    versions = [
        _parse(VERSIONS, n, _version, line) for n, line in _lines(directory, VERSIONS, manifest.sha256[VERSIONS])
    ]
    if (len(documents), len(versions)) != (manifest.documents, manifest.versions):
        counts = f"{len(documents)} 份文件、{len(versions)} 个版本"
        raise BackupError(f"备份中有 {counts}，与 {MANIFEST} 记录的数目不符")
    backup = Backup(manifest, documents, versions)
    _check_consistent(backup)
    if progress:
        progress(len(versions), len(versions), "checked")
    return backup


def _counted(items: list[T], progress: Progress | None, stage: str) -> Iterator[T]:
    for number, item in enumerate(items, 1):
        yield item
        if progress and (number % 200 == 0 or number == len(items)):
            progress(number, len(items), stage)


def import_backup(writer: KnowledgeWriter, directory: Path, progress: Progress | None = None) -> Manifest:
    """Restore a backup into the writer's empty store (StoreNotEmpty otherwise), then rebuild the index."""
    if not writer.store.is_empty():
        raise StoreNotEmpty("目标知识库不是空的：导入只写入空库，不会覆盖或合并已有的文件和历史")
    backup = read_backup(directory, progress)
    documents = _counted(backup.documents, progress, "documents")
    writer.store.restore(documents, _counted(backup.versions, progress, "versions"))
    writer.reindex(progress)
    return backup.manifest
