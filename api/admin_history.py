"""A document's history in the admin pages: every version (who, when, what, why) and the diff of any two.

History is read from the store's version table, so a retired or deleted document's history is shown like any
other; the diff is knowledge/history.py's (fields by name, the body sentence by sentence, inline marks).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from knowledge.errors import DocumentNotFound
from knowledge.history import VersionNotFound, diff_versions, pick_versions
from knowledge.store import DocumentStore, Version

from .admin_document import DocId
from .admin_page import render
from .auth import KbManager, User
from .deps import StoreDep

VersionNumber = Annotated[int | None, Query(ge=1, le=1_000_000, description="a version number")]
_MARK = re.compile(r"\[-(.*?)-\]|\{\+(.*?)\+\}", re.DOTALL)
router = APIRouter(prefix="/admin/documents")


def inline_segments(marked: str) -> list[tuple[str, str]]:
    """An inline diff (``[-old-]{+new+}``) as (kind, text) runs: "same", "removed" or "added"."""
    segments: list[tuple[str, str]] = []
    position = 0
    for match in _MARK.finditer(marked):
        if match.start() > position:
            segments.append(("same", marked[position : match.start()]))
        removed, added = match.group(1), match.group(2)
        segments.append(("removed", removed) if removed is not None else ("added", added))
        position = match.end()
    if position < len(marked):
        segments.append(("same", marked[position:]))
    return segments


def line_kind(line: str) -> str:
    """How a line of the unified sentence diff is shown."""
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "added", "-": "removed"}.get(line[:1], "same")


def _history(store: DocumentStore, doc_id: str) -> tuple[list[Version], bool]:
    """Every version of a document (DocumentNotFound when it never existed) and whether it is still current."""
    return store.history(doc_id), store.find(doc_id) is not None


def _missing(request: Request, user: User, doc_id: str) -> HTMLResponse:
    return render(request, user, "admin_missing.html", 404, doc_id=doc_id, history=[])


@router.get("/{doc_id:path}/history", include_in_schema=False)
async def history(request: Request, user: KbManager, store: StoreDep, doc_id: DocId) -> HTMLResponse:
    """Every version, newest first, with two version pickers for a diff."""
    try:
        versions, current = await run_in_threadpool(_history, store, doc_id)
    except DocumentNotFound:
        return _missing(request, user, doc_id)
    latest = versions[-1]
    return render(
        request, user, "admin_history.html", versions=list(reversed(versions)), latest=latest, current=current,
        doc_id=doc_id, old=versions[-2].version if len(versions) > 1 else latest.version, new=latest.version,
    )  # fmt: skip


@router.get("/{doc_id:path}/diff", include_in_schema=False)
async def diff(
    request: Request,
    user: KbManager,
    store: StoreDep,
    doc_id: DocId,
    old: VersionNumber = None,
    new: VersionNumber = None,
) -> HTMLResponse:
    """What changed between two versions (the latest and the one before it unless both are picked)."""
    try:
        versions, current = await run_in_threadpool(_history, store, doc_id)
    except DocumentNotFound:
        return _missing(request, user, doc_id)
    try:
        older, newer = pick_versions(versions, old, new)
    except VersionNotFound as error:
        latest = versions[-1]
        return render(
            request, user, "admin_history.html", 404, versions=list(reversed(versions)), latest=latest,
            current=current, doc_id=doc_id, old=latest.version, new=latest.version, message=error.message,
        )  # fmt: skip
    if older.version > newer.version:  # picked the other way round: still read from old to new
        older, newer = newer, older
    changes = diff_versions(older, newer)
    sentences = [(change, inline_segments(change.inline)) for change in changes.sentences]
    body = [(line_kind(line), line) for line in changes.body]
    return render(
        request, user, "admin_diff.html", diff=changes, sentences=sentences, body=body, doc_id=doc_id,
        latest=versions[-1], current=current,
    )  # fmt: skip
