"""The admin's view of accounts: the /accounts page and ``/api/auth/users`` (list, disable, enable), admin only.

Creating users and keys stays on the command line (``python -m api users add``): a password typed into a
terminal, and a key printed once, never pass through a page.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

import jinja2
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from .accounts import NAME, Account, AccountError, AccountStore, Role
from .auth import CSRF_FIELD, Admin, authenticator
from .errors import NotFound, error_responses
from .render import TEMPLATES

AUDIT_SHOWN = 30
UserName = Annotated[str, Path(min_length=1, max_length=64, pattern=NAME.pattern, description="the user's name")]
GUARDED = error_responses(401, 403, 422)

router = APIRouter()


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)


class UserOut(BaseModel):
    name: str
    role: Role
    disabled: bool
    created_at: str = Field(description="ISO 8601, UTC")


def _out(account: Account) -> UserOut:
    return UserOut(
        name=account.name, role=account.role, disabled=account.disabled, created_at=account.created_at.isoformat()
    )


def _store(request: Request) -> AccountStore:
    return authenticator(request).store


def _set_disabled(store: AccountStore, name: str, disabled: bool) -> Account:
    try:
        return store.set_disabled(name, disabled)
    except AccountError as error:
        raise NotFound(error.message) from None


@router.get("/api/auth/users", response_model=list[UserOut], summary="Every staff account", responses=GUARDED)
async def list_users(request: Request, _: Admin) -> list[UserOut]:
    return [_out(a) for a in await run_in_threadpool(_store(request).users)]


@router.post(
    "/api/auth/users/{name}/disable",
    response_model=UserOut,
    summary="Refuse a user's logins and end their sessions",
    responses=error_responses(401, 403, 404, 422),
)
async def disable_user(request: Request, name: UserName, _: Admin) -> UserOut:
    return _out(await run_in_threadpool(_set_disabled, _store(request), name, True))


@router.post(
    "/api/auth/users/{name}/enable",
    response_model=UserOut,
    summary="Allow a disabled user to log in again",
    responses=error_responses(401, 403, 404, 422),
)
async def enable_user(request: Request, name: UserName, _: Admin) -> UserOut:
    return _out(await run_in_threadpool(_set_disabled, _store(request), name, False))


@router.get("/accounts", include_in_schema=False)
async def accounts_page(request: Request, admin: Admin) -> HTMLResponse:
    """Users, API keys and the latest logins, with a disable / enable button per user."""
    store = _store(request)
    users, keys, audit = await run_in_threadpool(lambda: (store.users(), store.keys(), store.audit_log(AUDIT_SHOWN)))
    body = (
        _templates()
        .get_template("accounts.html")
        .render(
            service=request.app.state.services.settings.service, admin=admin, users=users, keys=keys, audit=audit,
            csrf_field=CSRF_FIELD,
        )
    )  # fmt: skip
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/accounts/{name}/disable", include_in_schema=False)
async def disable_from_page(request: Request, name: UserName, _: Admin) -> Response:
    await run_in_threadpool(_set_disabled, _store(request), name, True)
    return RedirectResponse("/accounts", status_code=303)


@router.post("/accounts/{name}/enable", include_in_schema=False)
async def enable_from_page(request: Request, name: UserName, _: Admin) -> Response:
    await run_in_threadpool(_set_disabled, _store(request), name, False)
    return RedirectResponse("/accounts", status_code=303)
