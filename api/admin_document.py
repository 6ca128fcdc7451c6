"""One document in the admin pages: its detail page (links, chunks, what the assistant answers from it) and the
forms that change it (metadata, retirement, linking a 解读), saved through the knowledge desk (api/kb_desk.py).

Reads come from the store (what was saved is shown at once); writes go through the desk, which records the
manager's account as the actor and publishes an index generation the readers follow within seconds. The
question box asks the reader this process already serves (the hotline desk's), so no second index is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hotline.desk import HotlineDesk
from knowledge.chunking import chunk_document
from knowledge.document import Answer, Document, Kind, Validity
from knowledge.errors import DocumentNotFound, KnowledgeError
from knowledge.reader import KnowledgeReader
from knowledge.retrieval import Filters
from knowledge.store import Change, DocumentStore

from .admin_form import RETIRE_VALIDITIES, FormResult, change_note, read_metadata, read_retirement, values_of
from .admin_page import document_path, findings_of, render
from .auth import KbManager, User
from .deps import SettingsDep, StoreDep
from .kb_desk import KnowledgeDeskDep

DocId = Annotated[str, Path(min_length=1, max_length=200, description="the document's id")]
PASSAGES_SHOWN = 5
router = APIRouter(prefix="/admin/documents")


@dataclass(frozen=True)
class Probe:
    """What the assistant answers a question with, and whether that answer comes from the document on the page."""

    question: str
    answer: Answer | None = None  # as a citizen asking gets it (retired documents left out)
    alone: Answer | None = None  # from this document only, retired or not
    cites: bool = False
    rank: int | None = None  # this document's first place among the passages retrieved (1 = top)
    error: str = ""


def probe(desk: HotlineDesk, doc_id: str, question: str) -> Probe:
    """Ask the process's reader: the citizen's answer, and the answer from this document alone."""
    try:
        source = desk.knowledge()
        answer = source.answer(question)
        alone = None
        if isinstance(source, KnowledgeReader):  # the reader (not every answer source) takes filters
            alone = source.answer(question, Filters(include_retired=True, doc_ids=(doc_id,)))
    except KnowledgeError as error:  # no index yet, or one this process cannot serve: say so on the page
        return Probe(question, error=f"知识库暂时无法回答：{error.message}")
    cited = answer.citation
    ranks = [k for k, passage in enumerate(answer.passages, 1) if passage.doc_id == doc_id]
    return Probe(
        question,
        answer,
        alone,
        cites=bool(answer.answered and cited and cited.doc_id == doc_id),
        rank=ranks[0] if ranks else None,
    )


def _missing(request: Request, user: User, store: DocumentStore, doc_id: str) -> HTMLResponse:
    """A document that is not (or no longer) in the store: 404, with its history when it had one."""
    try:
        history = store.history(doc_id)
    except DocumentNotFound:
        history = []
    return render(request, user, "admin_missing.html", 404, doc_id=doc_id, history=history)


def _detail(store: DocumentStore, doc: Document, chunk_chars: int) -> dict[str, Any]:
    everything = list(store.all())
    return {
        "doc": doc,
        "version": store.history(doc.id)[-1],
        "titles": {d.id: d.title for d in everything},
        "interpretations": store.interpretations_of(doc.id),
        "replaces": [d for d in everything if d.replaced_by == doc.id],
        "findings": [f for f in findings_of(everything) if f.doc_id == doc.id],
        "chunks": chunk_document(doc, chunk_chars),
    }


def _edit_context(store: DocumentStore, doc: Document) -> dict[str, Any]:
    docs = list(store.all())
    interpretations = [d for d in docs if d.kind is Kind.INTERPRETATION and d.id != doc.id]
    return {
        "doc": doc,
        "current": store.history(doc.id)[-1].version,
        "titles": {d.id: d.title for d in docs},
        "unlinked": [d for d in interpretations if d.interprets != doc.id],
        "interpretations": [d for d in interpretations if d.interprets == doc.id],
        "validities": list(Validity),
        "retire_validities": RETIRE_VALIDITIES,
    }


def _edit_page(
    request: Request,
    user: User,
    context: dict[str, Any],
    status: int = 200,
    edit: FormResult | None = None,
    retire: FormResult | None = None,
    message: str = "",
) -> HTMLResponse:
    doc: Document = context["doc"]
    values = edit.values if edit is not None else values_of(doc)
    sent = edit or retire
    stale_from = sent.version if status == 409 and sent is not None else None  # the diff that explains a 409
    return render(
        request, user, "admin_edit.html", status, values=values, errors=edit.errors if edit else {},
        retire=retire.values if retire else {"validity": "", "replaced_by": "", "note": ""},
        retire_errors=retire.errors if retire else {}, note=edit.note if edit else "", message=message,
        version=context["current"], stale_from=stale_from, **context,
    )  # fmt: skip


@router.get("/{doc_id:path}/edit", include_in_schema=False)
async def edit_form(request: Request, user: KbManager, store: StoreDep, doc_id: DocId) -> HTMLResponse:
    """The metadata form, the retire form and the 解读 links of one document."""
    doc = await run_in_threadpool(store.find, doc_id)
    if doc is None:
        return await run_in_threadpool(_missing, request, user, store, doc_id)
    return _edit_page(request, user, await run_in_threadpool(_edit_context, store, doc))


def _stale(form: FormResult, current: int) -> str:
    """Why a form opened on an older version must not overwrite what someone saved since ("" when it may)."""
    if form.version is None or form.version == current:
        return ""
    return f"这份文件在你打开表单后已被修改（现在是版本 {current}）。请核对后再保存：再次提交会覆盖为你填写的内容。"


def _done(doc_id: str, change: Change, done: str) -> RedirectResponse:
    shown = "unchanged" if change.action == "unchanged" else done
    return RedirectResponse(f"{document_path(doc_id)}?done={shown}&v={change.version}", status_code=303)


async def _form(request: Request) -> dict[str, Any]:
    return dict(await request.form())


@dataclass(frozen=True)
class EditForm:
    """One of the edit page's two forms: how it is read, whether it is the retire form, what a refusal says."""

    read: Callable[[Mapping[str, Any], Document, Collection[str]], FormResult]
    retires: bool
    refused: str


METADATA_FORM = EditForm(read_metadata, False, "没有保存：请按提示改正标出的项目。")
RETIRE_FORM = EditForm(read_retirement, True, "没有标注：请按提示改正标出的项目。")


async def _checked(
    request: Request, user: User, store: DocumentStore, doc_id: str, kind: EditForm
) -> tuple[Document, FormResult] | Response:
    """What saving and retiring share before they write: the document (its missing page when gone), the form read
    against it, and the edit page again when the form is bad (400) or was opened on an older version (409)."""
    doc = await run_in_threadpool(store.find, doc_id)
    if doc is None:
        return await run_in_threadpool(_missing, request, user, store, doc_id)
    context = await run_in_threadpool(_edit_context, store, doc)
    form = kind.read(await _form(request), doc, context["titles"])
    if not form.ok:
        status, message = 400, kind.refused
    elif stale := _stale(form, context["current"]):
        status, message = 409, stale
    else:
        return doc, form
    edit, retire = (None, form) if kind.retires else (form, None)
    return _edit_page(request, user, context, status, edit=edit, retire=retire, message=message)


@router.post("/{doc_id:path}/edit", include_in_schema=False)
async def save(request: Request, user: KbManager, store: StoreDep, desk: KnowledgeDeskDep, doc_id: DocId) -> Response:
    """Save the metadata form through the writer; a bad or stale form is shown again and nothing is saved."""
    checked = await _checked(request, user, store, doc_id, METADATA_FORM)
    if isinstance(checked, Response):
        return checked
    doc, form = checked
    assert form.document is not None
    note = change_note(doc, form.document, form.note)
    change = await run_in_threadpool(desk.upsert, form.document, note, user.name)
    return _done(doc_id, change, "saved")


@router.post("/{doc_id:path}/retire", include_in_schema=False)
async def retire(request: Request, user: KbManager, store: StoreDep, desk: KnowledgeDeskDep, doc_id: DocId) -> Response:
    """Label a document 已废止 / 失效 / 已修改 with a reason and an optional replacement, through the writer."""
    checked = await _checked(request, user, store, doc_id, RETIRE_FORM)
    if isinstance(checked, Response):
        return checked
    _, form = checked
    assert form.document is not None
    validity = form.document.validity
    note = form.note or f"标注为{validity.value}"
    change = await run_in_threadpool(desk.retire, doc_id, validity, form.values["replaced_by"], note, user.name)
    return _done(doc_id, change, "retired")


@router.post("/{doc_id:path}/interpretations", include_in_schema=False)
async def link_interpretation(
    request: Request, user: KbManager, store: StoreDep, desk: KnowledgeDeskDep, doc_id: DocId
) -> Response:
    """Link a 解读 to this policy: the interpretation's 解读对象 becomes this document (a new version of it)."""
    doc = await run_in_threadpool(store.find, doc_id)
    if doc is None:
        return await run_in_threadpool(_missing, request, user, store, doc_id)
    context = await run_in_threadpool(_edit_context, store, doc)
    chosen = (await _form(request)).get("interpretation", "")
    interpretation = next((d for d in context["unlinked"] if d.id == chosen), None)
    if interpretation is None:
        message = "没有关联：请从列表中选择一份尚未关联到这份文件的政策解读。"
        return _edit_page(request, user, context, 400, message=message)
    note = f"关联为《{doc.title}》的解读"
    await run_in_threadpool(desk.upsert, replace(interpretation, interprets=doc_id), note, user.name)
    return RedirectResponse(f"{document_path(doc_id)}?done=linked", status_code=303)


@router.get("/", include_in_schema=False)
async def no_document(_: KbManager) -> RedirectResponse:
    """The list, as the router's trailing-slash redirect gave it before the detail's path took every path."""
    return RedirectResponse("/admin/documents", status_code=307)


# last of the routes: its path takes every longer one (a document id may hold "/")
@router.get("/{doc_id:path}", include_in_schema=False)
async def detail(
    request: Request,
    user: KbManager,
    store: StoreDep,
    settings: SettingsDep,
    doc_id: DocId,
    q: Annotated[str | None, Query(max_length=2000)] = None,
) -> HTMLResponse:
    """Metadata, links, findings, the chunks as the index holds them and, when asked, the assistant's answer."""
    doc = await run_in_threadpool(store.find, doc_id)
    if doc is None:
        return await run_in_threadpool(_missing, request, user, store, doc_id)
    context = await run_in_threadpool(_detail, store, doc, settings.index.chunk_chars)
    question = (q or "").strip()[: settings.chat.max_chars]
    desk: HotlineDesk = request.app.state.hotline  # its reader: the index this process already serves
    asked = await run_in_threadpool(probe, desk, doc_id, question) if question else None
    return render(request, user, "admin_document.html", question=question or doc.title, probe=asked, **context)
