"""What the knowledge managers' pages (``/admin``) share: the templates, the layout's context, labels and filters.

Every page is server-rendered from ``api/templates/admin_*.html`` (which extend ``admin_base.html``) and carries
the session's CSRF token for its forms and the logout button; a page never checks roles itself (the routes'
``KbManager`` guard does, and checks the token of every state-changing form).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from knowledge.checks import CHECK_LABELS, Finding, check_documents
from knowledge.document import Document, Validity

from .auth import CSRF_FIELD, User
from .login import app_routes
from .render import TEMPLATES

CHINA = ZoneInfo("Asia/Shanghai")
UPLOAD_PATH = "/admin/upload"  # the upload page (api/admin_upload.py), linked from the menu when the app serves it
VALIDITY_CLASSES = {
    Validity.CURRENT: "valid",
    Validity.AMENDED: "amended",
    Validity.REPEALED: "repealed",
    Validity.EXPIRED: "expired",
    Validity.PENDING: "pending",
    Validity.UNSET: "unset",
}
ACTION_LABELS = {
    "created": "新建",
    "updated": "修改正文",
    "relabelled": "修改信息",
    "retired": "废止 / 失效",
    "deleted": "删除",
}
# what a page may say after a redirect: a fixed set, so a link cannot make the page say anything else
DONE_MESSAGES = {
    "saved": "已保存为版本 {version}，助手几秒内按新内容回答。",
    "retired": "已标注并保存为版本 {version}，助手几秒内按新状态回答。",
    "linked": "已关联解读，助手几秒内随之更新。",
    "unchanged": "没有改动，未保存新版本。",
}


def document_path(doc_id: str) -> str:
    """The detail page of a document; its id quoted, as an id may hold "/", "?" or "#" (the routes take "/")."""
    return f"/admin/documents/{quote(doc_id, safe='/')}"


def when(moment: datetime | None) -> str:
    """A stored UTC time as Beijing time, to the minute."""
    if moment is None:
        return ""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def day(value: date | None) -> str:
    return value.isoformat() if value is not None else "未填写"


def badge_class(validity: Validity | str) -> str:
    """The CSS class of a validity badge (the chat page's colours)."""
    try:
        return f"badge-{VALIDITY_CLASSES[Validity(validity)]}"
    except ValueError:
        return "badge-unset"


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.filters.update(when=when, day=day, badge=badge_class, action=lambda a: ACTION_LABELS.get(a, a))
    env.globals.update(CHECK_LABELS=CHECK_LABELS, csrf_field=CSRF_FIELD, urlencode=urlencode)
    return env


def _serves_upload(request: Request) -> bool:
    return any(getattr(route, "path", "") == UPLOAD_PATH for route in app_routes(request.app))


def render(request: Request, user: User, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """One admin page: the layout (menu, who is logged in, logout form) around ``template``."""
    done = request.query_params.get("done", "")
    version = request.query_params.get("v", "")
    flash = DONE_MESSAGES.get(done, "").format(version=version if version.isdigit() else "")
    body = (
        _templates()
        .get_template(template)
        .render(
            service=request.app.state.services.settings.service, user=user, flash=flash, path=request.url.path,
            upload=_serves_upload(request), **context,
        )
    )  # fmt: skip
    # no-store: every page carries the session's CSRF token and shows what only staff may see
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def today() -> date:
    """Today in China, the day the disclosure checks count to."""
    return datetime.now(CHINA).date()


def findings_of(documents: Iterable[Document]) -> list[Finding]:
    """The disclosure checks over the current documents, as of today."""
    return check_documents(documents, today())
