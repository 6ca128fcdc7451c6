"""Logging in and out: the /login form, /logout, ``GET /api/auth/me``, and the login page for refused pages.

The login form carries its own CSRF token (a double-submit cookie, since there is no session yet). A login
always starts a new session with a new random id and ends the one the browser had (no session fixation);
logout deletes the session server-side and the cookie. Attempts are limited per user name and per client
address (``POLICY_ACCOUNTS__LOGIN_*``) and every one is written to the login audit with its outcome.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from . import users
from .accounts import AccountStore, LoginOutcome, Role
from .auth import (
    CSRF_FIELD,
    SESSION_COOKIE,
    Authenticator,
    CurrentUser,
    RoleRefused,
    Unauthorized,
    User,
    Via,
    authenticator,
    check_csrf,
    current_user,
    wants_html,
)
from .errors import ApiError, RateLimited, error_responses
from .ratelimit import RateLimiter, RateStorage
from .render import TEMPLATES
from .settings import AppSettings

log = logging.getLogger(__name__)

LOGIN_CSRF_COOKIE = "policy_login_csrf"
MAX_PASSWORD_CHARS = 1024  # argon2 takes any length; this only bounds the work a request can ask for
# where each role lands after logging in without a ?next= (the first of these paths that the app serves)
LANDING = {
    Role.OPERATOR: ("/hotline",),
    Role.ANALYST: ("/reports",),
    Role.KB_MANAGER: ("/admin",),
    Role.ADMIN: ("/admin", "/reports", "/hotline"),
}
MESSAGES = {
    LoginOutcome.UNKNOWN_USER: "用户名或密码不正确。",
    LoginOutcome.BAD_PASSWORD: "用户名或密码不正确。",
    LoginOutcome.DISABLED: "该账号已停用，请联系管理员。",
}

router = APIRouter()
router.include_router(users.router)  # the admin's /accounts page and /api/auth/users


@dataclass(frozen=True)
class LoginLimits:
    per_name: RateLimiter
    per_address: RateLimiter


@asynccontextmanager
async def lifespan(app: FastAPI, settings: AppSettings) -> AsyncIterator[None]:
    """Open the account store (the work orders' database) and the login limits for the app's lifetime."""
    store = await run_in_threadpool(AccountStore.open, settings.store.url)
    accounts = settings.accounts
    app.state.auth = Authenticator(
        store,
        settings.hotline.api_key.get_secret_value(),
        timedelta(hours=accounts.session_hours),
        accounts.secure_cookies,
    )
    storage = RateStorage(settings.chat.rate_storage)
    limited = "登录尝试太频繁了，请稍等一分钟再试。"
    app.state.login_limits = LoginLimits(
        RateLimiter(accounts.login_rate_limit, storage, "login-name", limited),
        RateLimiter(accounts.login_address_rate_limit, storage, "login-address", limited),
    )
    try:
        yield
    finally:
        store.close()


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)


def safe_next(value: object) -> str:
    """A local path to go back to after login; anything else (another site, ``//host``) becomes ""."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return ""
    if any(ord(c) < 32 for c in value) or len(value) > 512:
        return ""
    return value


def app_routes(app: FastAPI) -> list[Any]:
    """Every route the app serves, included routers flattened (FastAPI 0.16x keeps them nested)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is flat already
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def landing(app: FastAPI, role: Role) -> str:
    """The page a role starts on: its console, if this app serves it, else the chat page."""
    served = {getattr(route, "path", "") for route in app_routes(app)}
    return next((path for path in LANDING.get(role, ()) if path in served), "/")


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def login_page(
    request: Request, status: int = 200, *, message: str = "", next_path: str = "", user: User | None = None
) -> HTMLResponse:
    """The login form (also shown, with 401 or 403, for a page the caller may not open)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    service = request.app.state.services.settings.service
    body = (
        _templates()
        .get_template("login.html")
        .render(
            service=service, message=message, next_path=next_path, csrf_field=CSRF_FIELD, login_csrf=token,
            user=user if user is not None and not user.anonymous else None,
        )
    )  # fmt: skip
    response = HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=authenticator(request).secure_cookies,
        path="/login",
    )  # fmt: skip
    return response


@router.get("/login", include_in_schema=False)
async def show_login(request: Request, user: CurrentUser) -> HTMLResponse:
    return login_page(request, next_path=safe_next(request.query_params.get("next")), user=user)


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    """Check the form, the limits and the password; on success a fresh session and a redirect."""
    form = await request.form()
    next_path = safe_next(form.get("next"))
    sent, expected = form.get(CSRF_FIELD), request.cookies.get(LOGIN_CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        return login_page(request, 403, message="页面已过期，请重新登录。", next_path=next_path)
    name, password = form.get("name"), form.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or not name.strip() or not password:
        return login_page(request, 400, message="请输入用户名和密码。", next_path=next_path)
    name = name.strip()[:64]
    auth: Authenticator = authenticator(request)
    limits: LoginLimits = request.app.state.login_limits
    try:
        limits.per_address.check(_address(request))
        limits.per_name.check(name)
    except RateLimited as error:
        await run_in_threadpool(auth.store.audit, name, _address(request), LoginOutcome.RATE_LIMITED)
        return login_page(request, 429, message=error.message, next_path=next_path)
    account, outcome = await run_in_threadpool(auth.store.check_password, name, password[:MAX_PASSWORD_CHARS])
    await run_in_threadpool(auth.store.audit, name, _address(request), outcome)
    if account is None or outcome is not LoginOutcome.SUCCESS:
        log.info("login refused: %s", outcome)  # the name may be a mistyped password: not logged
        status = 403 if outcome is LoginOutcome.DISABLED else 401
        return login_page(request, status, message=MESSAGES[outcome], next_path=next_path)
    if old := request.cookies.get(SESSION_COOKIE):  # whatever session the browser came with ends here
        await run_in_threadpool(auth.store.end_session, old)
    token = await run_in_threadpool(auth.store.create_session, account, auth.session_lifetime)
    response = RedirectResponse(next_path or landing(request.app, account.role), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(auth.session_lifetime.total_seconds()), httponly=True, samesite="lax",
        secure=auth.secure_cookies, path="/",
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, user: CurrentUser) -> Response:
    """End the session (CSRF-checked: a foreign page must not log staff out) and forget the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if user.via is Via.SESSION and token:
        await check_csrf(request, user)
        auth = authenticator(request)
        await run_in_threadpool(auth.store.end_session, token)
        await run_in_threadpool(auth.store.audit, user.name, _address(request), LoginOutcome.LOGOUT)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


class Me(BaseModel):
    name: str = Field(description="the account or key name; empty for an anonymous citizen")
    role: Role
    via: Via = Field(description="how the caller authenticated")
    csrf_token: str = Field(description="send it as X-CSRF-Token on state-changing calls made with this session")


@router.get("/api/auth/me", response_model=Me, summary="Who the caller is", responses=error_responses(401))
async def me(user: CurrentUser) -> Me:
    return Me(name=user.name, role=user.role, via=user.via, csrf_token=user.csrf_token)


def install_handlers(app: FastAPI) -> None:
    """A browser refused a page sees the login form (401 or 403); API clients get the usual JSON error."""

    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        if wants_html(request):
            user = None
            if isinstance(error, RoleRefused):
                user = await run_in_threadpool(_caller, request)
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            message = error.message if isinstance(error, RoleRefused) else "请先登录，再打开这个页面。"
            return login_page(request, error.status, message=message, next_path=safe_next(path), user=user)
        return JSONResponse({"error": error.code, "message": error.message}, status_code=error.status)

    app.add_exception_handler(Unauthorized, refused)
    app.add_exception_handler(RoleRefused, refused)


def _caller(request: Request) -> User | None:
    try:
        return current_user(request)
    except Unauthorized:
        return None
