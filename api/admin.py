"""The knowledge managers' pages, ``/admin``: the home page's counts, the document list, the disclosure findings,
and (from the modules it includes) a document's detail, edit and retire forms and its history.

Every route is ``KbManager`` (kb_manager accounts; admin passes too): anonymous callers get the login form
(401), other roles 403, and every form that changes something is CSRF-checked by the guard. Changes are saved
through the knowledge desk (api/kb_desk.py) with the account's name as the actor.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from knowledge.checks import CHECK_LABELS, CHECKS, Finding, count_by_check
from knowledge.document import Kind, Validity
from knowledge.store import DocumentStore

from . import admin_document, admin_history
from .admin_catalogue import BadFilter, list_documents, read_filter
from .admin_page import document_path, findings_of, render
from .auth import KbManager
from .deps import StoreDep

RECENT_CHANGES = 15
router = APIRouter()
router.include_router(admin_history.router)  # before the detail page's /{doc_id}: its paths are longer
router.include_router(admin_document.router)

# where on the edit page each finding is fixed: the field's id there
FIELD_ANCHORS = {"文号": "doc_number", "成文日期": "written_date", "发布日期": "published_date"}
CHECK_ANCHORS = {
    "missing_validity": "validity",
    "expired_but_current": "validity",
    "late_publication": "published_date",
    "missing_interpretation": "interpretations",
    "retired_without_replacement": "replaced_by",
}


def fix_link(finding: Finding) -> str:
    """The edit form of the finding's document, scrolled to the field that fixes it."""
    if finding.check == "missing_field":
        anchor = next((a for label, a in FIELD_ANCHORS.items() if label in finding.detail), "metadata")
    elif finding.check == "broken_link":
        anchor = "interprets" if finding.detail.startswith("解读对象") else "replaced_by"
    else:
        anchor = CHECK_ANCHORS.get(finding.check, "metadata")
    return f"{document_path(finding.doc_id)}/edit#{anchor}"


def _home(store: DocumentStore) -> dict[str, Any]:
    docs = list(store.all())
    by_kind_validity = Counter((d.kind, d.validity) for d in docs)
    return {
        "total": len(docs),
        "kinds": list(Kind),
        "validities": list(Validity),
        "counts": by_kind_validity,
        "by_kind": Counter(d.kind for d in docs),
        "by_validity": Counter(d.validity for d in docs),
        "unset": sum(1 for d in docs if d.validity is Validity.UNSET),
        "checks": count_by_check(findings_of(docs)),
        "recent": store.audit(limit=RECENT_CHANGES),
    }


@router.get("/admin", include_in_schema=False)
async def home(request: Request, user: KbManager, store: StoreDep) -> HTMLResponse:
    """Counts by kind and validity, findings by check, the latest changes with who made them."""
    return render(request, user, "admin_home.html", **await run_in_threadpool(_home, store))


@router.get("/admin/documents", include_in_schema=False)
async def documents(
    request: Request,
    user: KbManager,
    store: StoreDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The filtered, paginated list; a filter value that cannot be used is explained and the full list shown."""
    query = dict(request.query_params)
    docs = await run_in_threadpool(lambda: list(store.all()))
    try:
        chosen, error = read_filter(query), ""
    except BadFilter as refused:
        chosen, error, query = read_filter({}), str(refused), {}
    listing = list_documents(docs, chosen, query, page)
    return render(
        request, user, "admin_documents.html", 400 if error else 200, listing=listing, error=error,
        kinds=list(Kind), validities=list(Validity),
    )  # fmt: skip


@router.get("/admin/findings", include_in_schema=False)
async def findings(
    request: Request,
    user: KbManager,
    store: StoreDep,
    check: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """The disclosure checks' findings, optionally of one check, each with the link that fixes it."""
    docs = await run_in_threadpool(lambda: list(store.all()))
    found = findings_of(docs)
    counts = count_by_check(found)
    error = "" if not check or check in CHECK_LABELS else f"没有这项检查：“{check[:20]}”。下面列出全部问题。"
    chosen = check if check in CHECK_LABELS else ""
    shown = [(f, fix_link(f)) for f in found if not chosen or f.check == chosen]
    return render(
        request, user, "admin_findings.html", 400 if error else 200, findings=shown, counts=counts, checks=CHECKS,
        chosen=chosen, error=error, titles={d.id: d.title for d in docs},
    )  # fmt: skip
