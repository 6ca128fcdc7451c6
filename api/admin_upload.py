"""The knowledge managers' upload: ``GET /admin/upload`` (the page) and ``POST /admin/upload`` (one or many files
of every ingest format, multipart field ``files``), kb_manager and admin only, CSRF-checked.

The POST answers in the form the caller accepts:

- ``text/event-stream`` (the page's script): ``start`` (the files received), ``progress`` (``{"stage":
  "parsed", "done", "total", "file"}`` per file, then ``{"stage": "indexed", "done", "total"}`` per document
  embedded), ``published`` (the index generation that carries the upload), one ``result`` per file
  (``{"name", "size", "status": added|updated|unchanged|error, "status_label", "message", "documents": [{"doc_id",
  "title", "action", "action_label", "version"}], "problems", "duplicates"}``), and ``summary`` (counts per
  status, ``documents_written``, ``generation``, ``seconds``); or ``error`` ``{"error", "message"}`` when
  the ingest itself failed. The ingest runs to its end even when the client goes away.
- ``application/json``: ``{"files": [result…], "summary": {…}}`` once the ingest is done;
- anything else (the form posted without JavaScript): the page with the results table.

Refused before anything is kept: 400 ``no_files``; 413 ``too_many_files`` (over ``POLICY_UPLOAD__MAX_FILES``),
``file_too_large`` (a file over ``POLICY_UPLOAD__MAX_FILE_BYTES``, named) or ``body_too_large`` (the request
over ``POLICY_UPLOAD__MAX_REQUEST_BYTES``). A file the parsers cannot read (not a real .docx, empty, an unknown
type) gets its own ``error`` result with the reason, and the rest of the upload lands.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sse_starlette import EventSourceResponse
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Receive, Scope, Send

from knowledge.parsers import SUPPORTED_SUFFIXES

from . import hotline
from .admin_page import render
from .admin_upload_files import Outcome, Received, failure, file_results, keep, refusal, safe_name, summary
from .auth import KbManager, User
from .deps import SettingsDep
from .edge import BodyLimit
from .errors import ApiError, error_responses
from .kb_desk import KnowledgeDesk, KnowledgeDeskDep
from .settings import UploadSettings

log = logging.getLogger(__name__)

UPLOAD_PATH = "/admin/upload"
FILES_FIELD = "files"
PING_SECONDS = 15
Emit = Callable[[str, dict[str, Any]], None]

router = APIRouter()


class NoFiles(ApiError):
    code = "no_files"


class TooManyFiles(ApiError):
    status = 413
    code = "too_many_files"


class FileTooLarge(ApiError):
    status = 413
    code = "file_too_large"


class BodyLimits(hotline.BodyLimits):
    """The edge's body caps (api/hotline.py), with the upload's own on ``/admin/upload``: many files at once."""

    def __init__(self, app: ASGIApp, max_bytes: int, hotline_max_bytes: int, upload_max_bytes: int) -> None:
        super().__init__(app, max_bytes, hotline_max_bytes)
        self.upload = BodyLimit(app, upload_max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == UPLOAD_PATH:
            await self.upload(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def _page(
    request: Request,
    user: User,
    limits: UploadSettings,
    outcome: Outcome | None = None,
) -> HTMLResponse:
    """The upload page in the admin layout; after a form post without JavaScript, with the results filled in."""
    return render(
        request, user, "admin_upload.html", outcome.status if outcome else 200, limits=limits,
        accept=",".join(sorted(SUPPORTED_SUFFIXES)), formats="、".join(sorted(s[1:] for s in SUPPORTED_SUFFIXES)),
        results=outcome.results if outcome else None, totals=outcome.totals if outcome else None,
        error=outcome.error if outcome else None,
    )  # fmt: skip


@router.get(UPLOAD_PATH, include_in_schema=False)
async def upload_page(request: Request, user: KbManager, settings: SettingsDep) -> HTMLResponse:
    """The upload form: files of every ingest format, a progress bar and a results table."""
    return _page(request, user, settings.upload)


async def _receive(request: Request, limits: UploadSettings) -> list[Received]:
    """Check the upload's files against the limits, then keep each acceptable one on disk (in upload order)."""
    form = await request.form()  # parsed once (the CSRF check may have read it): files spooled to disk
    uploads = [v for v in form.getlist(FILES_FIELD) if isinstance(v, UploadFile) and (v.filename or v.size)]
    if not uploads:
        raise NoFiles("没有收到文件：请选择要上传的文件。")
    if len(uploads) > limits.max_files:
        raise TooManyFiles(f"一次最多上传 {limits.max_files} 个文件，请分批上传。")
    for upload in uploads:
        if (upload.size or 0) > limits.max_file_bytes:
            name = safe_name(upload.filename or "")
            raise FileTooLarge(f"文件「{name}」超过单个文件的大小上限（{_size(limits.max_file_bytes)}）。")
    received: list[Received] = []
    seen: set[str] = set()
    for upload in uploads:
        name = safe_name(upload.filename or "") or "未命名"
        size = upload.size or 0
        reason = refusal(name, size, seen)
        if reason:
            received.append(Received(name, size, error=reason))
            continue
        seen.add(name.casefold())
        received.append(Received(name, size, await run_in_threadpool(keep, limits.dir, name, upload.file)))
    return received


def _size(count: int) -> str:
    return f"{count / 1_048_576:.0f} MB" if count >= 1_048_576 else f"{count / 1024:.0f} KB"


def _ingest(desk: KnowledgeDesk, received: list[Received], actor: str, emit: Emit) -> Outcome:
    """Ingest the kept files through the desk, telling each step; then one result per file and the summary."""
    kept = [r.path for r in received if r.path is not None]
    names = [r.name for r in received if r.path is not None]
    started = time.monotonic()

    def progress(done: int, total: int, stage: str) -> None:
        step = {"stage": stage, "done": done, "total": total}
        emit("progress", {**step, "file": names[done - 1]} if stage == "parsed" else step)

    try:
        report = desk.ingest(kept, actor, progress) if kept else None
        if report is not None:
            emit("published", {"generations": [g.name for g in report.generations]})
        results = file_results(received, report, desk)
    except Exception as error:  # whatever stopped the ingest, the caller is told (and the log has the traceback)
        log.exception("an upload of %d files failed", len(kept))
        outcome = failure(error)
        emit("error", outcome.error_body())
        return outcome
    for result in results:
        emit("result", result.as_json())
    outcome = Outcome(results, summary(results, report, time.monotonic() - started))
    emit("summary", outcome.totals)
    return outcome


def _stream(desk: KnowledgeDesk, received: list[Received], actor: str) -> AsyncIterator[dict[str, str]]:
    """The ingest on a thread of its own (it finishes even when nobody listens), its events as they happen."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()

    def post(item: tuple[str, dict[str, Any]] | None) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the event loop has closed (the server is stopping): nobody is listening any more
            log.info("upload event dropped: the server is stopping")

    def run() -> None:
        try:
            _ingest(desk, received, actor, lambda event, data: post((event, data)))
        finally:
            post(None)

    async def events() -> AsyncIterator[dict[str, str]]:
        files = [{"name": r.name, "size": r.size, "kept": r.path is not None} for r in received]
        yield {"event": "start", "data": json.dumps({"files": files}, ensure_ascii=False)}
        while (item := await queue.get()) is not None:
            yield {"event": item[0], "data": json.dumps(item[1], ensure_ascii=False)}

    threading.Thread(target=run, name="kb-upload").start()
    return events()


def _quiet(event: str, data: dict[str, Any]) -> None:
    """No one follows the steps of an upload answered at its end."""


@router.post(UPLOAD_PATH, include_in_schema=False, responses=error_responses(400, 401, 403, 413, 500))
async def upload(request: Request, user: KbManager, desk: KnowledgeDeskDep, settings: SettingsDep) -> Response:
    """Keep the files, ingest them as the caller, and tell how it went (see the module docstring)."""
    received = await _receive(request, settings.upload)
    accept = request.headers.get("accept", "")
    if "text/event-stream" in accept:
        return EventSourceResponse(_stream(desk, received, user.name), ping=PING_SECONDS)
    outcome = await run_in_threadpool(_ingest, desk, received, user.name, _quiet)
    if "application/json" in accept:
        if outcome.error is not None:
            raise outcome.error  # rendered by api/errors.py's handlers, as every other refusal of this route
        return JSONResponse({"files": [r.as_json() for r in outcome.results], "summary": outcome.totals})
    return _page(request, user, settings.upload, outcome)
