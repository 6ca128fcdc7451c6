"""Accounts and roles against the real app under uvicorn: the role matrix, CSRF, sessions, keys, the CLI, a browser.

The matrix finds every guarded route from the app's own dependencies (``api.auth.RoleGuard``), so a route
added later with ``Operator`` / ``Analyst`` / ``KbManager`` / ``Admin`` is covered without editing this file.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from playwright.sync_api import Browser, expect
from pydantic import SecretStr
from sqlalchemy import Engine, select, text

from api.__main__ import main
from api.accounts import AccountError, AccountStore, LoginOutcome, Role, login_audit, metadata, sessions, users
from api.app import create_app
from api.auth import SESSION_COOKIE, Operator, RoleGuard
from api.login import app_routes
from api.settings import AppSettings
from knowledge.db import open_engine
from monitor.migrations import MONITOR

from ..postgres import throwaway_schema
from .conftest import RunningApi, serve_api
from .pages import SCREENSHOTS, axe_findings, needs_chromium

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "青禾-correct-horse-7"
BOOTSTRAP_KEY = "bootstrap-operator-key-0123456789"
STAFF = {Role.OPERATOR: "op1", Role.ANALYST: "an1", Role.KB_MANAGER: "kb1", Role.ADMIN: "ad1"}
# paths only staff may reach: a route under one of them without a role guard is a hole
STAFF_PREFIXES = ("/api/hotline", "/hotline", "/api/reports", "/reports", "/api/admin", "/admin", "/accounts")
STAFF_PREFIXES += ("/api/auth/users",)
# the login form's own token (a logged-in user's page also has the logout form's)
LET_THROUGH_S = 20.0  # a route still answering after this long was let through by its guard
CSRF_INPUT = re.compile(r'action="/login"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"')


def _settings(directory: Path, bootstrap_key: str = BOOTSTRAP_KEY) -> AppSettings:
    """The app over an empty store and index of its own (accounts live in the store's database).

    Nothing here needs an answer: a caller a route lets through may get any status but 401 / 403.
    """
    settings = AppSettings()
    settings.store.url = f"sqlite:///{directory}/kb.db"
    settings.index.dir = directory / "index"
    settings.conversation_log.url = f"sqlite:///{directory}/conversations.db"
    settings.conversation_log.spool = str(directory / "log-spool.jsonl")
    settings.hotline.api_key = SecretStr(bootstrap_key)
    settings.accounts.login_address_rate_limit = "1000/minute"  # the matrix logs in often from 127.0.0.1
    return settings


@dataclass(frozen=True)
class Accounts:
    api: RunningApi
    keys: dict[Role, str]  # one API key per staff role

    def store(self) -> AccountStore:
        return AccountStore.open(self.api.settings.store.url)


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Accounts]:
    settings = _settings(tmp_path_factory.mktemp("auth-api"))
    store = AccountStore.open(settings.store.url)
    keys = {}
    for role, name in STAFF.items():
        store.add_user(name, role, PASSWORD)
        keys[role] = store.add_key(f"{name}-key", role)
    store.close()
    with serve_api(settings) as running:
        yield Accounts(running, keys)


def client(api: RunningApi) -> httpx.Client:
    return httpx.Client(base_url=api.url, timeout=60, follow_redirects=False)


def login(http: httpx.Client, name: str, password: str = PASSWORD, next_path: str = "") -> httpx.Response:
    """Log in through the form as a browser does: GET /login for its CSRF token, then POST the form."""
    page = http.get("/login")
    assert page.status_code == 200, page.text
    token = CSRF_INPUT.search(page.text)
    assert token is not None
    form = {"name": name, "password": password, "csrf_token": token.group(1), "next": next_path}
    return http.post("/login", data=form)


def logged_in(api: RunningApi, name: str) -> tuple[httpx.Client, str]:
    """A client with a session for ``name`` and that session's CSRF token."""
    http = client(api)
    assert login(http, name).status_code == 303
    me = http.get("/api/auth/me").json()
    assert me["name"] == name and me["via"] == "session"
    return http, me["csrf_token"]


# ---------------------------------------------------------------------------------------------------
# the role matrix
# ---------------------------------------------------------------------------------------------------


def _guard(dependant: Dependant) -> RoleGuard | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, RoleGuard):
            return dependency.call
        if (found := _guard(dependency)) is not None:
            return found
    return None


def guarded_routes(app: FastAPI) -> list[tuple[str, str, tuple[Role, ...], set[str]]]:
    """(method, path, roles, query names) of every route with a role guard somewhere in its dependencies."""
    found = []
    for route in _api_routes(app):
        if (guard := _guard(route.dependant)) is not None:
            queries = _query_names(route.dependant)
            found += [(method, route.path, guard.roles, queries) for method in sorted(route.methods - {"HEAD"})]
    return found


def _api_routes(app: FastAPI) -> list[Any]:
    return [r for r in app_routes(app) if isinstance(r.original_route if hasattr(r, "original_route") else r, APIRoute)]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names


def _status(http: httpx.Client, method: str, path: str, headers: dict[str, str], queries: set[str]) -> int | str:
    """The status of one call, or "working" when it was let through and is still busy after LET_THROUGH_S.

    A guard refuses before the route does any work, so a call still running has passed it. The body is
    ``{}`` and every query parameter far too long: a route that validates them fails fast once let through.
    """
    body = None if method in ("GET", "DELETE") else b"{}"
    headers = {**headers, "Content-Type": "application/json"} if body is not None else headers
    params = dict.fromkeys(sorted(queries), "9" * 300)
    try:  # streamed, and closed after the headers: an allowed caller may open an event stream
        with http.stream(
            method, _concrete(path), content=body, headers=headers, params=params, timeout=LET_THROUGH_S
        ) as response:
            return response.status_code
    except httpx.ReadTimeout:
        return "working"


def test_every_staff_route_and_page_has_a_role_guard(accounts: Accounts) -> None:
    routes = _api_routes(accounts.api.app)
    unguarded = [r.path for r in routes if r.path.startswith(STAFF_PREFIXES) and _guard(r.dependant) is None]

    assert unguarded == []
    guarded = {path for _, path, _, _ in guarded_routes(accounts.api.app)}
    assert {"/accounts", "/api/auth/users", "/api/auth/users/{name}/disable"} <= guarded
    document = "/admin/documents/{doc_id:path}"  # the knowledge managers' pages and forms (api/admin*.py)
    admin_pages = {"/admin", "/admin/documents", "/admin/findings", document, f"{document}/edit", f"{document}/retire"}
    assert admin_pages | {f"{document}/interpretations", f"{document}/history", f"{document}/diff"} <= guarded


def test_role_matrix_allowed_401_403(accounts: Accounts) -> None:
    """Each caller against each guarded route: allowed for its roles and admin, 401 anonymous, 403 otherwise."""
    api = accounts.api
    routes = guarded_routes(api.app)
    sessions = {role: logged_in(api, name) for role, name in STAFF.items()}
    anonymous = client(api)
    failures = []
    for method, path, roles, queries in routes:
        for role in [Role.CITIZEN, *STAFF]:
            allowed = role is Role.ADMIN or role in roles
            expected = "allowed" if allowed else ("401" if role is Role.CITIZEN else "403")
            attempts: list[tuple[str, httpx.Client, dict[str, str]]] = []
            if role is Role.CITIZEN:
                attempts.append(("anonymous", anonymous, {}))
            else:
                http, csrf = sessions[role]
                attempts.append(("session", http, {"X-CSRF-Token": csrf}))
                attempts.append(("api key", anonymous, {"X-API-Key": accounts.keys[role]}))
            for via, http, headers in attempts:
                status = _status(http, method, path, headers, queries)
                got = "401" if status == 401 else "403" if status == 403 else "allowed"
                if got != expected:
                    failures.append(f"{role} ({via}) {method} {path}: {status}, expected {expected}")
    assert failures == []
    # the bootstrap key (POLICY_HOTLINE__API_KEY) is an operator
    for method, path, roles, queries in routes:
        status = _status(anonymous, method, path, {"X-API-Key": BOOTSTRAP_KEY}, queries)
        assert (status not in (401, 403)) == (Role.OPERATOR in roles), (method, path, status)


def test_a_wrong_or_disabled_key_is_refused_not_taken_for_a_citizen(accounts: Accounts) -> None:
    with client(accounts.api) as http:
        wrong = http.get("/api/auth/me", headers={"X-API-Key": "pk_not-a-key"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"

        store = accounts.store()
        key = store.add_key("retiring-key", Role.ANALYST)
        assert http.get("/api/auth/me", headers={"X-API-Key": key}).json()["role"] == "analyst"
        store.disable_key("retiring-key")
        store.close()
        assert http.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 401


def test_a_browser_refused_a_page_gets_the_login_form(accounts: Accounts) -> None:
    html = {"Accept": "text/html"}
    with client(accounts.api) as http:
        anonymous = http.get("/accounts", headers=html)
        assert anonymous.status_code == 401 and 'action="/login"' in anonymous.text
        assert 'name="next" value="/accounts"' in anonymous.text
        assert http.get("/accounts").json()["error"] == "unauthorized"  # an API client gets JSON

    analyst, _ = logged_in(accounts.api, STAFF[Role.ANALYST])
    refused = analyst.get("/accounts", headers=html)
    assert refused.status_code == 403 and "当前已登录" in refused.text and "an1" in refused.text
    assert analyst.get("/accounts").json()["error"] == "forbidden"


# ---------------------------------------------------------------------------------------------------
# CSRF, sessions, logout, disabled users, limits, audit
# ---------------------------------------------------------------------------------------------------


def test_csrf_token_is_required_with_a_session_and_not_with_a_key(accounts: Accounts) -> None:
    store = accounts.store()
    store.add_user("csrf-target", Role.ANALYST, PASSWORD)
    store.close()
    admin, csrf = logged_in(accounts.api, STAFF[Role.ADMIN])
    path = "/api/auth/users/csrf-target/disable"

    missing = admin.post(path)
    wrong = admin.post(path, headers={"X-CSRF-Token": "guessed"})
    form_without = admin.post("/accounts/csrf-target/disable", data={"other": "1"})
    assert [r.status_code for r in (missing, wrong, form_without)] == [403, 403, 403]
    assert {r.json()["error"] for r in (missing, wrong, form_without)} == {"csrf_refused"}
    assert admin.get("/api/auth/users").json()[0]["name"]  # reads need no token
    assert not next(u for u in admin.get("/api/auth/users").json() if u["name"] == "csrf-target")["disabled"]

    assert admin.post(path, headers={"X-CSRF-Token": csrf}).json()["disabled"] is True
    enabled = admin.post("/accounts/csrf-target/enable", data={"csrf_token": csrf})
    assert enabled.status_code == 303 and enabled.headers["location"] == "/accounts"
    with client(accounts.api) as keyed:  # an integration's key needs no token
        done = keyed.post(path, headers={"X-API-Key": accounts.keys[Role.ADMIN]})
        assert done.status_code == 200 and done.json()["disabled"] is True
    # logging out is state-changing too: a foreign page must not log staff out
    assert admin.post("/logout", data={}).status_code == 403
    assert admin.get("/api/auth/me").json()["name"] == STAFF[Role.ADMIN]


def test_the_login_form_has_its_own_csrf_token(accounts: Accounts) -> None:
    with client(accounts.api) as http:
        http.get("/login")
        forged = http.post("/login", data={"name": STAFF[Role.ADMIN], "password": PASSWORD, "csrf_token": "forged"})
        assert forged.status_code == 403 and SESSION_COOKIE not in forged.headers.get("set-cookie", "")
        assert http.get("/api/auth/me").json()["via"] == "anonymous"


def test_login_rotates_the_session_id(accounts: Accounts) -> None:
    """A session id planted before login (fixation) or held from an earlier login is not the new session."""
    planted = "attacker-chosen-session-id"
    with client(accounts.api) as http:
        http.cookies.set(SESSION_COOKIE, planted, domain="127.0.0.1", path="/")
        response = login(http, STAFF[Role.KB_MANAGER])
        assert response.status_code == 303
        first = http.cookies[SESSION_COOKIE]
        assert first != planted
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
        assert login(http, STAFF[Role.KB_MANAGER]).status_code == 303
        second = http.cookies[SESSION_COOKIE]
        assert second != first

    for stale in (planted, first):
        with client(accounts.api) as other:
            other.cookies.set(SESSION_COOKIE, stale)
            assert other.get("/api/auth/me").json()["via"] == "anonymous"
    with client(accounts.api) as other:
        other.cookies.set(SESSION_COOKIE, second)
        assert other.get("/api/auth/me").json()["name"] == STAFF[Role.KB_MANAGER]


def test_logout_ends_the_session_on_the_server(accounts: Accounts) -> None:
    http, csrf = logged_in(accounts.api, STAFF[Role.OPERATOR])
    token = http.cookies[SESSION_COOKIE]

    out = http.post("/logout", data={"csrf_token": csrf})

    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert SESSION_COOKIE not in http.cookies
    with client(accounts.api) as replay:  # the old cookie, sent again, is nobody
        replay.cookies.set(SESSION_COOKIE, token)
        assert replay.get("/api/auth/me").json()["via"] == "anonymous"
        assert replay.get("/api/auth/users").status_code == 401
    store = accounts.store()
    assert store.audit_log(1)[0].outcome is LoginOutcome.LOGOUT
    store.close()


def test_a_disabled_user_cannot_log_in_and_loses_their_sessions(accounts: Accounts) -> None:
    store = accounts.store()
    store.add_user("leaver", Role.ANALYST, PASSWORD)
    http, _ = logged_in(accounts.api, "leaver")

    store.set_disabled("leaver")

    assert http.get("/api/auth/me").json()["via"] == "anonymous"
    with client(accounts.api) as again:
        refused = login(again, "leaver")
        assert refused.status_code == 403 and "已停用" in refused.text
        assert SESSION_COOKIE not in again.cookies
    assert store.audit_log(1)[0].outcome is LoginOutcome.DISABLED
    store.set_disabled("leaver", False)
    with client(accounts.api) as back:
        assert login(back, "leaver").status_code == 303
    store.close()


def test_wrong_passwords_are_refused_limited_and_audited(accounts: Accounts) -> None:
    name = "limited-user"
    store = accounts.store()
    store.add_user(name, Role.ANALYST, PASSWORD)
    with client(accounts.api) as http:
        unknown = login(http, "nobody-here", "whatever-password")
        wrong = login(http, name, "wrong-password-1")
        assert (unknown.status_code, wrong.status_code) == (401, 401)
        assert "用户名或密码不正确" in unknown.text and "用户名或密码不正确" in wrong.text  # no user enumeration
        statuses = [login(http, name, f"wrong-password-{i}").status_code for i in range(2, 6)]
        assert statuses == [401, 401, 401, 401]
        limited = login(http, name)  # the 6th in a minute (POLICY_ACCOUNTS__LOGIN_RATE_LIMIT), right password or not
        assert limited.status_code == 429 and SESSION_COOKIE not in http.cookies

    entries = [e for e in store.audit_log(50) if e.name in (name, "nobody-here")]
    outcomes = [e.outcome for e in reversed(entries)]
    assert outcomes == [LoginOutcome.UNKNOWN_USER, *[LoginOutcome.BAD_PASSWORD] * 5, LoginOutcome.RATE_LIMITED]
    assert {e.address for e in entries} == {"127.0.0.1"}
    with client(accounts.api) as http:  # a phone number typed as the name is stored masked, like any personal data
        assert login(http, "13812345678", "some-password").status_code == 401
    assert store.audit_log(1)[0].name == "138****5678"
    with store.engine.connect() as conn:  # what the audit stores: never a password
        dumped = " ".join(str(row) for row in conn.execute(select(login_audit)))
    assert "wrong-password" not in dumped and PASSWORD not in dumped and "13812345678" not in dumped
    store.close()


def test_login_redirects_only_to_local_paths(accounts: Accounts) -> None:
    store = accounts.store()
    store.add_user("redirector", Role.ANALYST, PASSWORD)
    store.close()
    with client(accounts.api) as http:
        for foreign in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            response = login(http, "redirector", next_path=foreign)
            # the analyst's landing page instead: /reports where the app serves it, else the chat page
            assert response.status_code == 303 and response.headers["location"] in ("/reports", "/"), foreign
        assert login(http, "redirector", next_path="/accounts?x=1").headers["location"] == "/accounts?x=1"


def test_bad_login_forms_get_a_clear_error(accounts: Accounts) -> None:
    with client(accounts.api) as http:
        page = http.get("/login")
        token = CSRF_INPUT.search(page.text)
        assert token is not None
        empty = http.post("/login", data={"name": " ", "password": "", "csrf_token": token.group(1)})
        assert empty.status_code == 400 and "请输入用户名和密码" in empty.text
        assert http.post("/login", content=b"\xff\xfe", headers={"Content-Type": "text/plain"}).status_code == 403


ST = Path(sys.executable).with_name("st")


@pytest.mark.parametrize("caller", ["anonymous", "admin key"])
def test_schemathesis_finds_no_failure_on_the_account_routes(accounts: Accounts, caller: str, tmp_path: Path) -> None:
    """The contract run of tests/api/test_openapi.py, here also past the guard: as the admin, every status declared."""
    headers = ["-H", f"X-API-Key: {accounts.keys[Role.ADMIN]}"] if caller == "admin key" else []
    command = [
        str(ST), "run", f"{accounts.api.url}/openapi.json", "--include-path-regex", "^/api/auth/",
        "--max-examples", "12", "--seed", "20261201", "--workers", "1", "--request-timeout", "60",
        "--generation-database", "none", "--no-color", *headers,
    ]  # fmt: skip

    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    finally:  # its stateful phase disables the users it lists: the tests after this one log in as them
        store = accounts.store()
        for account in store.users():
            store.set_disabled(account.name, False)
        store.close()

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Tested: 4" in result.stdout  # /api/auth/me, /api/auth/users and its disable and enable


# ---------------------------------------------------------------------------------------------------
# the loopback rule (no POLICY_HOTLINE__API_KEY: the make run default)
# ---------------------------------------------------------------------------------------------------


def _probe(user: Operator) -> dict[str, str]:
    return {"name": user.name, "via": user.via}


@pytest.fixture(scope="module")
def keyless_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    settings = _settings(tmp_path_factory.mktemp("keyless-api"), bootstrap_key="")
    app = create_app(settings)
    # an operator route of this test's own, so the rule is tested whatever hotline routes exist
    app.add_api_route("/api/hotline/_probe", _probe, methods=["GET", "POST"])
    with serve_api(settings, app) as running:
        yield running


def test_loopback_clients_are_operators_only_without_a_key_and_only_on_operator_routes(
    keyless_api: RunningApi,
) -> None:
    with client(keyless_api) as http:
        assert http.get("/api/hotline/_probe").json() == {"name": "loopback", "via": "loopback"}
        assert http.post("/api/hotline/_probe").status_code == 200
        assert http.get("/api/auth/users").status_code == 401  # admin routes: no loopback pass
        assert http.get("/api/auth/me").json()["via"] == "anonymous"
        cross = http.post(
            "/api/hotline/_probe", headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
        )
        assert cross.status_code == 403 and cross.json()["error"] == "csrf_refused"
        same = http.post("/api/hotline/_probe", headers={"Origin": keyless_api.url})
        assert same.status_code == 200


def test_with_a_bootstrap_key_loopback_clients_are_anonymous(accounts: Accounts) -> None:
    operator_routes = [(m, p, q) for m, p, roles, q in guarded_routes(accounts.api.app) if Role.OPERATOR in roles]
    with client(accounts.api) as http:
        for method, path, queries in operator_routes:
            assert _status(http, method, path, {}, queries) == 401, (method, path)


# ---------------------------------------------------------------------------------------------------
# the store on SQLite and PostgreSQL, the migration, the CLI
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        sqlite = open_engine(f"sqlite:///{tmp_path}/accounts.db")
        yield sqlite
        sqlite.dispose()
        return
    with throwaway_schema("accounts") as postgres:
        yield postgres


def test_the_migration_builds_exactly_the_account_tables(engine: Engine) -> None:
    MONITOR.upgrade(engine)
    owned = set(metadata.tables)
    with engine.connect() as conn:
        schema = (engine.get_execution_options().get("schema_translate_map") or {}).get(None)
        if schema:
            conn.execute(text(f'SET search_path TO "{schema}"'))
        context = MigrationContext.configure(
            conn, opts={"include_name": lambda name, type_, _: type_ != "table" or name in owned}
        )
        assert compare_metadata(context, metadata) == []


def test_the_store_on_each_database(engine: Engine) -> None:
    now = [datetime(2026, 12, 1, 2, 0, tzinfo=UTC)]
    store = AccountStore(engine, clock=lambda: now[0])
    store.ensure()
    account = store.add_user("王芳", Role.KB_MANAGER, PASSWORD)
    with pytest.raises(AccountError, match="已存在"):
        store.add_user("王芳", Role.ANALYST, PASSWORD)
    with pytest.raises(AccountError, match="至少"):
        store.add_user("short", Role.ANALYST, "1234567")
    with pytest.raises(AccountError, match="名称"):
        store.add_user("a b", Role.ANALYST, PASSWORD)
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored

    assert store.check_password("王芳", PASSWORD) == (account, LoginOutcome.SUCCESS)
    token = store.create_session(account, timedelta(hours=1))
    session = store.session(token)
    assert session is not None and session.user.name == "王芳" and len(session.csrf_token) >= 32
    with engine.connect() as conn:
        assert conn.execute(select(sessions.c.id)).scalar_one() != token  # only its digest
    now[0] += timedelta(hours=1, seconds=1)
    assert store.session(token) is None  # expired

    key = store.add_key("hotline-system", Role.OPERATOR)
    found = store.key(key)
    assert found is not None and found.role is Role.OPERATOR and key.startswith(found.prefix)
    assert store.key(key + "x") is None
    store.set_password("王芳", "another-password-1")
    assert store.check_password("王芳", PASSWORD)[1] is LoginOutcome.BAD_PASSWORD


def test_cli_adds_lists_and_disables_users_and_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("POLICY_STORE__URL", url)

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))  # not a terminal: the password is its first line
        code = main(list(args))
        printed = capsys.readouterr()
        return code, printed.out, printed.err

    assert run("users", "add", "zhang.san", "--role", "operator", stdin=f"{PASSWORD}\n")[0] == 0
    assert run("users", "add", "li", "--role", "citizen", stdin=f"{PASSWORD}\n")[0] == 1
    code, _, error = run("users", "add", "li", "--role", "boss", stdin=f"{PASSWORD}\n")
    assert code == 1 and "没有这个角色" in error
    code, _, error = run("users", "add", "li", "--role", "analyst", stdin="short\n")
    assert code == 1 and "至少 8 个字符" in error
    code, key, _ = run("keys", "add", "hotline", "--role", "operator")
    assert code == 0 and re.fullmatch(r"pk_[\w-]{40,}\n", key), key
    assert run("users", "disable", "zhang.san")[0] == 0
    _, listed, _ = run("users", "list")
    _, keys, _ = run("keys", "list")

    assert listed.startswith("zhang.san\toperator\t已停用")
    assert key.strip() not in keys and keys.startswith("hotline\toperator\tpk_")
    assert run("users", "disable", "nobody")[0] == 1
    store = AccountStore.open(url)
    assert store.check_password("zhang.san", PASSWORD)[1] is LoginOutcome.DISABLED
    found = store.key(key.strip())
    assert found is not None and found.role is Role.OPERATOR
    store.close()


def test_cli_reads_the_password_from_stdin_in_its_own_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    env = {**os.environ, "POLICY_STORE__URL": url}
    command = [sys.executable, "-m", "api", "users", "add", "kb.manager", "--role", "kb_manager"]

    done = subprocess.run(
        command, input=f"{PASSWORD}\n", capture_output=True, text=True, env=env, cwd=ROOT, timeout=180
    )

    assert done.returncode == 0, done.stderr
    assert "kb.manager" in done.stdout and PASSWORD not in done.stdout + done.stderr
    store = AccountStore.open(url)
    assert store.check_password("kb.manager", PASSWORD)[1] is LoginOutcome.SUCCESS
    store.close()


# ---------------------------------------------------------------------------------------------------
# the browser
# ---------------------------------------------------------------------------------------------------


@needs_chromium
def test_login_and_logout_in_chromium(browser: Browser, accounts: Accounts) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.set_default_timeout(30_000)  # a loaded 2-core machine
    page = context.new_page()
    try:
        response = page.goto(f"{accounts.api.url}/accounts")
        assert response is not None and response.status == 401
        expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
        assert axe_findings(page) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "login.png"))

        expect(page.get_by_label("用户名")).to_be_focused()  # keyboard only: type, Tab, type, Enter
        page.keyboard.type(STAFF[Role.ADMIN])
        page.keyboard.press("Tab")
        page.keyboard.type("wrong-password")
        page.keyboard.press("Enter")
        expect(page.get_by_role("alert")).to_have_text("用户名或密码不正确。")
        page.get_by_label("用户名").fill(STAFF[Role.ADMIN])
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_label("密码").press("Enter")

        expect(page).to_have_url(f"{accounts.api.url}/accounts")
        expect(page.get_by_role("heading", name="账号管理")).to_be_visible()
        users_table = page.get_by_role("region", name="用户", exact=True)
        expect(users_table.get_by_role("cell", name=STAFF[Role.ANALYST], exact=True)).to_be_visible()
        assert axe_findings(page) == []
        cookie = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert page.evaluate("() => document.cookie").find(SESSION_COOKIE) == -1
        page.screenshot(path=str(SCREENSHOTS / "accounts.png"), full_page=True)

        page.get_by_role("button", name="退出登录").click()
        expect(page).to_have_url(f"{accounts.api.url}/login")
        assert page.goto(f"{accounts.api.url}/accounts").status == 401  # type: ignore[union-attr]
    finally:
        context.close()
