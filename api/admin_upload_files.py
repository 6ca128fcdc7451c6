"""Uploaded files for the knowledge base: received and kept on disk, ingested through the desk, and the
ingest's report told back file by file.

A file is kept as ``POLICY_UPLOAD__DIR/<sha256 prefix>/<name as uploaded>``: the name decides a Word or PDF
document's id (``knowledge/parsers/fields.py: stem_id``) exactly as ``python -m knowledge ingest`` would, the
document's 来源文件 names a file that stays, and uploading the same file again is reported unchanged (the same
bytes land on the same path, so nothing about the document differs).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from knowledge.document import Document
from knowledge.errors import KnowledgeError
from knowledge.parsers import SUPPORTED_SUFFIXES
from knowledge.store import Change
from knowledge.writer import IngestReport

from .errors import ApiError, ErrorBody
from .kb_desk import KnowledgeDesk

Status = Literal["added", "updated", "unchanged", "error"]
STATUS_LABELS: dict[str, str] = {"added": "新增", "updated": "更新", "unchanged": "未变", "error": "失败"}
ACTION_LABELS = {"created": "新增", "updated": "正文更新", "relabelled": "元数据更新", "retired": "标注废止",
                 "unchanged": "未变"}  # fmt: skip
NAME_CHARS = 120  # longest file name kept (its suffix included)
COPY_BYTES = 1_048_576
_DUPLICATE = re.compile(r"^(.+?)：与 (\S+) 内容重复")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


@dataclass(frozen=True)
class Received:
    """One file of an upload: kept at ``path``, or refused before any parsing with ``error``."""

    name: str
    size: int
    path: Path | None = None
    error: str = ""


@dataclass(frozen=True)
class DocumentResult:
    doc_id: str
    title: str
    action: str
    action_label: str
    version: int


@dataclass
class FileResult:
    """What an upload did with one file: its documents, or the reason nothing came of it."""

    name: str
    size: int
    status: Status = "unchanged"
    message: str = ""  # the parser's reason when the file failed
    documents: list[DocumentResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # lines or rows skipped inside the file
    duplicates: list[str] = field(default_factory=list)  # republished copies of another document

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "status_label": self.status_label}


def safe_name(filename: str) -> str:
    """The uploaded name without folders or characters a file system refuses; "" when nothing is left."""
    name = _UNSAFE.sub("_", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip().lstrip(".")
    if len(name) > NAME_CHARS:
        stem, suffix = os.path.splitext(name)
        name = stem[: NAME_CHARS - len(suffix)] + suffix
    return name


def refusal(name: str, size: int, seen: set[str]) -> str:
    """Why a file is not even kept (unknown type, empty, a second file of the same name), or ""."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = "、".join(sorted(SUPPORTED_SUFFIXES))
        return f"不支持的文件类型「{suffix or '无扩展名'}」，支持：{supported}"
    if size == 0:
        return "文件为空"
    if name.casefold() in seen:
        return "本次上传中已有同名文件，这一份没有导入（同名文件会写入同一份文档）"
    return ""


def keep(directory: Path, name: str, source: BinaryIO) -> Path:
    """Copy an upload to ``directory/<hash>/<name>``, hashing as it goes (a reader never sees half a file)."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    source.seek(0)
    # a name of its own: two uploads of one file at once never share a half-written copy
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".upload-", suffix=".part", delete=False) as partial:
        while block := source.read(COPY_BYTES):
            digest.update(block)
            partial.write(block)
    folder = directory / digest.hexdigest()[:16]
    folder.mkdir(exist_ok=True)
    os.replace(partial.name, folder / name)
    return folder / name


def _sources(report: IngestReport, desk: KnowledgeDesk, current: Mapping[str, Document]) -> list[str]:
    """The file each change came from: the source path of the version it wrote (a document two files of the
    batch wrote is looked up in its history, the current one naming only the later file)."""
    repeated = {doc_id for doc_id, n in Counter(c.doc_id for c in report.changes).items() if n > 1}
    sources = []
    for change in report.changes:
        if change.doc_id in repeated:
            versions = {v.version: v.document for v in desk.history(change.doc_id)}
            doc = versions.get(change.version)
        else:
            doc = current.get(change.doc_id)
        sources.append(doc.source_path if doc is not None else "")
    return sources


def _status(changes: list[Change]) -> Status:
    actions = {c.action for c in changes}
    if "created" in actions:
        return "added"
    return "unchanged" if actions <= {"unchanged"} else "updated"


def file_results(received: list[Received], report: IngestReport | None, desk: KnowledgeDesk) -> list[FileResult]:
    """One result per uploaded file, in upload order, from the ingest's changes, errors and notes."""
    report = report or IngestReport()  # nothing was kept: every file was refused before parsing
    current = desk.documents() if report.changes else {}
    results = {str(r.path): FileResult(r.name, r.size) for r in received if r.path is not None}
    changes: dict[str, list[Change]] = {}
    for change, source in zip(report.changes, _sources(report, desk, current), strict=True):
        if source in results:
            changes.setdefault(source, []).append(change)
            doc = current.get(change.doc_id)
            label = ACTION_LABELS.get(change.action, change.action)
            title = doc.title if doc is not None else ""
            results[source].documents.append(DocumentResult(change.doc_id, title, change.action, label, change.version))
    for error in report.errors:
        if error.path in results:
            results[error.path].status, results[error.path].message = "error", error.reason
    for problem in report.problems:  # "<path>: <what was skipped>"
        for path, result in results.items():
            if problem.startswith(f"{path}: "):
                result.problems.append(problem[len(path) + 2 :])
    for note in report.duplicates:  # "<copy>：与 <the copy naming the group> 内容重复…": either may be this upload's
        named = _DUPLICATE.match(note)
        for doc_id in named.groups() if named else ():
            doc = current.get(doc_id)
            notes = results[doc.source_path].duplicates if doc is not None and doc.source_path in results else None
            if notes is not None and note not in notes:
                notes.append(note)
    out = []
    for item in received:
        if item.path is None:
            out.append(FileResult(item.name, item.size, "error", item.error))
            continue
        result = results[str(item.path)]
        if result.status != "error":
            if not result.documents:
                result.status, result.message = "error", "文件中没有可导入的文档"
            else:
                result.status = _status(changes.get(str(item.path), []))
        out.append(result)
    return out


def summary(results: list[FileResult], report: IngestReport | None, seconds: float) -> dict[str, Any]:
    """The counts an upload ends with, and the index generation that carries it."""
    counts: Counter[str] = Counter(r.status for r in results)
    generation = report.generations[-1].name if report is not None and report.generations else ""
    documents = sum(1 for r in results for d in r.documents if d.action != "unchanged")
    return {
        "files": len(results), **{status: counts.get(status, 0) for status in STATUS_LABELS},
        "documents_written": documents, "generation": generation, "seconds": round(seconds, 1),
    }  # fmt: skip


class IngestFailed(ApiError):
    status = 500
    code = "ingest_failed"


@dataclass
class Outcome:
    """How an upload ended: a result per file and the summary, or the error that stopped the ingest."""

    results: list[FileResult] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    error: ApiError | KnowledgeError | None = None

    @property
    def status(self) -> int:
        return self.error.status if self.error is not None else 200

    def error_body(self) -> dict[str, str]:
        """The error as api/errors.py renders every error, for the event stream (which no handler renders)."""
        assert self.error is not None
        return ErrorBody(error=self.error.code, message=self.error.message).model_dump()


def failure(error: Exception) -> Outcome:
    """The outcome of an ingest that failed as a whole (the store unreachable, an index it cannot read)."""
    if isinstance(error, KnowledgeError):
        return Outcome(error=error)
    return Outcome(error=IngestFailed("导入中断（服务内部错误），已写入的文档不受影响，请稍后重试。"))
