"""The hotline operator console, ``GET /hotline``: one server-rendered page over the JSON routes of api/hotline.py.

The page is guarded like those routes (``Operator``: a logged-in operator, the bootstrap key, or a loopback
client while ``POLICY_HOTLINE__API_KEY`` is empty). A session's CSRF token is rendered into the page, and
api/static/hotline.js sends it with every state-changing call.
"""

from __future__ import annotations

from functools import cache

import jinja2
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from knowledge.settings import ServiceSettings

from .auth import Operator
from .deps import SettingsDep
from .render import TEMPLATES

router = APIRouter()


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)


def console_page(service: ServiceSettings, csrf_token: str = "") -> str:
    """The console naming the deployment's hotline and region; ``csrf_token`` for a session's calls."""
    return _templates().get_template("hotline.html").render(service=service, csrf_token=csrf_token)


@router.get("/hotline", include_in_schema=False)
async def console(settings: SettingsDep, operator: Operator) -> HTMLResponse:
    # no-store: the page carries the session's CSRF token and is only for the operator who asked
    page = console_page(settings.service, operator.csrf_token)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
