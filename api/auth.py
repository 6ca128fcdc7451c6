"""Who is calling and whether they may: one dependency decides the caller, one guard per role checks it.

The caller (``current_user``) is, in this order:

- an ``X-API-Key`` header: ``POLICY_HOTLINE__API_KEY`` is the bootstrap operator key (the hotline system's
  first key, before any account exists); a key made by ``python -m api keys add`` carries its own role; any
  other value is refused with 401 — a wrong key is never taken for an anonymous citizen;
- a session cookie set by ``/login``: its user (an unknown, expired or disabled user's session counts as none);
- otherwise an anonymous citizen.

A route declares its role with an alias (``user: Operator``) or ``Depends(require_role(...))``; admin passes
every check. Anonymous callers get 401 (a browser asking for a page gets the login form, still 401), a
logged-in user without the role 403.

Loopback rule (the ``make run`` default): while ``POLICY_HOTLINE__API_KEY`` is empty, a client on 127.0.0.1
or ::1 without credentials counts as an operator on operator routes only, so the hotline console works on
the machine that runs it before anyone has an account. Set the key (or put the API behind a proxy that
forwards the client address) before serving the console to other machines.

CSRF: a state-changing request (not GET / HEAD / OPTIONS) authenticated by a session cookie must carry the
session's token in the ``X-CSRF-Token`` header or a ``csrf_token`` form field; API-key calls are exempt (no
browser sends them by itself). A loopback operator's state-changing request is refused when the browser
marks it cross-site (``Sec-Fetch-Site`` / ``Origin``): a web page must not drive the console.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import cache
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from .accounts import AccountStore, Role
from .errors import ApiError, Forbidden

__all__ = [
    "Admin", "Analyst", "Authenticator", "CsrfRefused", "CurrentUser", "KbManager", "Operator", "Role", "RoleGuard",
    "RoleRefused", "Unauthorized", "User", "Via", "current_user", "require_role",
]  # fmt: skip

SESSION_COOKIE = "policy_session"
API_KEY_HEADER = "X-API-Key"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Via(StrEnum):
    """How the caller proved who they are."""

    ANONYMOUS = "anonymous"
    SESSION = "session"
    API_KEY = "api_key"
    BOOTSTRAP_KEY = "bootstrap_key"  # POLICY_HOTLINE__API_KEY
    LOOPBACK = "loopback"  # the loopback rule above


@dataclass(frozen=True)
class User:
    """The caller of one request: a name (empty for citizens), a role and how they authenticated."""

    name: str
    role: Role
    via: Via
    csrf_token: str = ""  # the session's token, for the forms a page renders ("" without a session)

    @property
    def anonymous(self) -> bool:
        return self.via is Via.ANONYMOUS

    def has_role(self, *roles: Role) -> bool:
        """Whether this caller may act as any of ``roles`` (admin may act as every one)."""
        return self.role is Role.ADMIN or self.role in roles

    @property
    def sees_full_numbers(self) -> bool:
        """Operators (and admins) see callers' full phone numbers; everyone else sees them masked."""
        return self.has_role(Role.OPERATOR)


ANONYMOUS = User("", Role.CITIZEN, Via.ANONYMOUS)
BOOTSTRAP_OPERATOR = User("hotline", Role.OPERATOR, Via.BOOTSTRAP_KEY)
LOOPBACK_OPERATOR = User("loopback", Role.OPERATOR, Via.LOOPBACK)


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class CsrfRefused(Forbidden):
    code = "csrf_refused"


class RoleRefused(Forbidden):
    """Logged in (or keyed), but not with a role this route admits."""


@dataclass(frozen=True)
class Authenticator:
    """What ``current_user`` needs, opened once per process (api/login.py's lifespan puts it on app.state)."""

    store: AccountStore
    bootstrap_key: str = ""  # POLICY_HOTLINE__API_KEY; empty: the loopback rule applies
    session_lifetime: timedelta = timedelta(hours=12)
    secure_cookies: bool = False

    def by_key(self, key: str) -> User | None:
        """The caller an API key stands for, or None for a key that is unknown or disabled."""
        if self.bootstrap_key and secrets.compare_digest(key.encode(), self.bootstrap_key.encode()):
            return BOOTSTRAP_OPERATOR
        found = self.store.key(key)
        return None if found is None else User(found.name, found.role, Via.API_KEY)

    def by_session(self, token: str) -> User | None:
        session = self.store.session(token)
        if session is None:
            return None
        return User(session.user.name, session.user.role, Via.SESSION, session.csrf_token)


def authenticator(request: Request) -> Authenticator:
    return request.app.state.auth  # type: ignore[no-any-return]


def current_user(request: Request) -> User:
    """The caller (see the module docstring); a plain function, so FastAPI runs its lookups off the event loop."""
    auth = authenticator(request)
    key = request.headers.get(API_KEY_HEADER)
    if key is not None:
        user = auth.by_key(key)
        if user is None:
            raise Unauthorized("API 密钥无效或已停用。")
        return user
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        user = auth.by_session(token)
        if user is not None:
            return user
    return ANONYMOUS


def is_loopback(request: Request) -> bool:
    host = request.client.host if request.client is not None else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # "testclient" and other non-addresses
        return False


def wants_html(request: Request) -> bool:
    """A browser navigating to a page (it is shown the login form rather than a JSON error)."""
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _cross_site(request: Request) -> bool:
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return True
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != request.headers.get("host", "")


async def check_csrf(request: Request, user: User) -> None:
    """Refuse a state-changing session request whose CSRF token is missing or wrong (403 csrf_refused)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)  # Starlette caches the parsed form for the route
        sent = field if isinstance(field, str) else None
    if not sent or not user.csrf_token or not secrets.compare_digest(sent.encode(), user.csrf_token.encode()):
        raise CsrfRefused("请求缺少有效的 CSRF 令牌，请刷新页面后重试。")


class RoleGuard:
    """A dependency that lets through callers with one of ``roles`` (or admin), 401 / 403 otherwise.

    The roles are kept on the instance so tests find every guarded route from the app's dependencies.
    """

    def __init__(self, roles: tuple[Role, ...]) -> None:
        if not roles or Role.CITIZEN in roles:
            raise ValueError("a guard names at least one staff role (citizens need no guard)")
        self.roles = roles

    def __repr__(self) -> str:
        return f"require_role({', '.join(self.roles)})"

    async def __call__(self, request: Request, user: Annotated[User, Depends(current_user)]) -> User:
        if user.anonymous and Role.OPERATOR in self.roles and not authenticator(request).bootstrap_key:
            if is_loopback(request):
                if request.method not in SAFE_METHODS and _cross_site(request):
                    raise CsrfRefused("跨站请求被拒绝。")
                return LOOPBACK_OPERATOR
        if user.anonymous:
            raise Unauthorized("请先登录（或在 X-API-Key 中提供密钥）。")
        if not user.has_role(*self.roles):
            raise RoleRefused(f"当前账号（{user.name}，{user.role}）没有访问这里的权限。")
        if user.via is Via.SESSION and request.method not in SAFE_METHODS:
            await check_csrf(request, user)
        return user


@cache
def require_role(*roles: Role) -> RoleGuard:
    """The guard for ``roles``: ``Annotated[User, Depends(require_role(Role.KB_MANAGER))]``."""
    return RoleGuard(roles)


CurrentUser = Annotated[User, Depends(current_user)]
Operator = Annotated[User, Depends(require_role(Role.OPERATOR))]
Analyst = Annotated[User, Depends(require_role(Role.ANALYST))]
KbManager = Annotated[User, Depends(require_role(Role.KB_MANAGER))]
Admin = Annotated[User, Depends(require_role(Role.ADMIN))]
