"""Accounts in the citizen-record database: users (argon2 hashes), server-side sessions, API keys, login audit.

The tables are created by the monitor migration tree (revision 0004_accounts), so they live wherever the
work orders live (``POLICY_STORE__URL``, SQLite or PostgreSQL). Secrets never reach the database in clear:
passwords are argon2id hashes (argon2-cffi), and a session cookie or an API key — 256 random bits each —
is stored as its SHA-256, which is enough for a value nobody can guess and lets a lookup use an index.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from knowledge.db import open_engine
from knowledge.privacy import mask_personal_data
from monitor.migrations import MONITOR

from .errors import ApiError

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
)
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_sessions_user_id", "user_id"),
    Index("ix_sessions_expires_at", "expires_at"),
)
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
login_audit = Table(
    "login_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("name", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Index("ix_login_audit_at", "at"),
    Index("ix_login_audit_name", "name"),
)

NAME = re.compile(r"^[\w.@-]{1,64}$")
MIN_PASSWORD = 8
KEY_PREFIX = "pk_"


class Role(StrEnum):
    """Who may do what: citizens are anonymous; admin passes every role check."""

    CITIZEN = "citizen"
    OPERATOR = "operator"  # the hotline console; sees callers' full numbers
    ANALYST = "analyst"  # reports over masked data only
    KB_MANAGER = "kb_manager"  # documents
    ADMIN = "admin"  # users, settings


STAFF_ROLES = tuple(role for role in Role if role is not Role.CITIZEN)


class LoginOutcome(StrEnum):
    """What one login attempt came to, as the audit records it."""

    SUCCESS = "success"
    BAD_PASSWORD = "bad_password"
    UNKNOWN_USER = "unknown_user"
    DISABLED = "disabled"
    RATE_LIMITED = "rate_limited"
    LOGOUT = "logout"


class AccountError(ApiError):
    """A bad account operation (CLI or admin): the message says which name or value."""

    code = "account_error"


@dataclass(frozen=True)
class Account:
    """A person who logs in with a password."""

    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    """An integration's key (the key itself is shown once, at creation, and never stored)."""

    name: str
    role: Role
    prefix: str
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class Session:
    """A logged-in browser: its user and the CSRF token every state-changing request must carry."""

    user: Account
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    name: str
    address: str
    outcome: LoginOutcome


def digest(secret: str) -> str:
    """SHA-256 of a random secret (session cookie, API key): what the database keeps."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive; every value this module writes is UTC
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_role(value: str, *, staff: bool = True) -> Role:
    """A role from its name; citizens have no accounts, so ``staff`` refuses it."""
    try:
        role = Role(value)
    except ValueError:
        raise AccountError(f"没有这个角色：{value!r}（可用：{', '.join(STAFF_ROLES)}）") from None
    if staff and role is Role.CITIZEN:
        raise AccountError("citizen 是匿名访客，不需要账号或密钥")
    return role


def _check_name(name: str) -> str:
    if not NAME.match(name):
        raise AccountError(f"名称不合规：{name!r}（1-64 个字母、数字、汉字或 . _ @ -）")
    return name


class AccountStore:
    """Users, sessions, API keys and the login audit, in the monitor tree's database."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))
        self.hasher = PasswordHasher()
        self._dummy: str | None = None
        self._ready = False

    @classmethod
    def open(cls, url: str) -> AccountStore:
        """Open the store at ``url``; an empty database is created, an outdated one refused (SchemaOutdated)."""
        store = cls(open_engine(url))
        store.ensure()
        return store

    def ensure(self) -> None:
        if not self._ready:
            MONITOR.ensure(self.engine)
            self._ready = True

    def close(self) -> None:
        self.engine.dispose()

    # ---- users --------------------------------------------------------------------------------

    def add_user(self, name: str, role: Role, password: str) -> Account:
        """Create a user; AccountError when the name is taken or the password too short."""
        _check_name(name)
        if role is Role.CITIZEN:
            raise AccountError("citizen 是匿名访客，不需要账号")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")
        row = {
            "name": name, "role": role.value, "password_hash": self.hasher.hash(password), "disabled": False,
            "created_at": self.clock(),
        }  # fmt: skip
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(users).values(**row))
        except IntegrityError:
            raise AccountError(f"用户已存在：{name}") from None
        return self.user(name)

    def user(self, name: str) -> Account:
        """The user called ``name``; AccountError when there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            raise AccountError(f"没有这个用户：{name}")
        return _account(row._mapping)

    def users(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
        return [_account(row._mapping) for row in rows]

    def set_disabled(self, name: str, disabled: bool = True) -> Account:
        """Disable (or enable again) a user; disabling ends every session of theirs at once."""
        account = self.user(name)
        with self.engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == account.id)
                .values(disabled=disabled, disabled_at=self.clock() if disabled else None)
            )
            if disabled:
                conn.execute(delete(sessions).where(sessions.c.user_id == account.id))
        return self.user(name)

    def set_password(self, name: str, password: str) -> None:
        """Replace a user's password; their sessions end (a changed password means a suspected leak)."""
        account = self.user(name)
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == account.id).values(password_hash=self.hasher.hash(password)))
            conn.execute(delete(sessions).where(sessions.c.user_id == account.id))

    def check_password(self, name: str, password: str) -> tuple[Account | None, LoginOutcome]:
        """The account when ``password`` is its password, and the outcome the audit records."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            # a check against a throwaway hash costs what a real one costs: the timing tells no names
            self._dummy = self._dummy or self.hasher.hash(secrets.token_hex(16))
            self._verify(self._dummy, password)
            return None, LoginOutcome.UNKNOWN_USER
        stored = row._mapping["password_hash"]
        if not self._verify(stored, password):
            return None, LoginOutcome.BAD_PASSWORD
        account = _account(row._mapping)
        if self.hasher.check_needs_rehash(stored):  # parameters raised since it was hashed
            with self.engine.begin() as conn:
                conn.execute(
                    update(users).where(users.c.id == account.id).values(password_hash=self.hasher.hash(password))
                )
        if account.disabled:  # told only to whoever knows the password
            return account, LoginOutcome.DISABLED
        return account, LoginOutcome.SUCCESS

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    # ---- sessions -----------------------------------------------------------------------------

    def create_session(self, account: Account, lifetime: timedelta) -> str:
        """A new session for ``account``; returns the cookie value (only its digest is stored)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at < now))  # expired ones, on the way
            conn.execute(
                insert(sessions).values(
                    id=digest(token),
                    user_id=account.id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )
        return token

    def session(self, token: str) -> Session | None:
        """The live session behind a cookie value: None when unknown, expired or its user disabled."""
        query = (
            select(sessions.c.csrf_token, sessions.c.expires_at, users)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.id == digest(token))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        mapping = row._mapping
        expires_at = _aware(mapping["expires_at"])
        if expires_at <= self.clock() or mapping["disabled"]:
            return None
        return Session(_account(mapping), mapping["csrf_token"], expires_at)

    def end_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id == digest(token)))

    def session_count(self, name: str) -> int:
        account = self.user(name)
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).where(sessions.c.user_id == account.id)) or 0)

    # ---- API keys -----------------------------------------------------------------------------

    def add_key(self, name: str, role: Role) -> str:
        """A new API key with ``role``; returns the key, which is shown once and stored only as a digest."""
        _check_name(name)
        if role is Role.CITIZEN:
            raise AccountError("citizen 不需要密钥：匿名即可")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = {
            "name": name, "role": role.value, "key_hash": digest(key), "prefix": key[:10], "disabled": False,
            "created_at": self.clock(),
        }  # fmt: skip
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(api_keys).values(**row))
        except IntegrityError:
            raise AccountError(f"密钥名称已存在：{name}") from None
        return key

    def keys(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.name)).all()
        return [_key(row._mapping) for row in rows]

    def disable_key(self, name: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(update(api_keys).where(api_keys.c.name == name).values(disabled=True))
        if done.rowcount == 0:
            raise AccountError(f"没有这个密钥：{name}")

    def key(self, key: str) -> ApiKey | None:
        """The enabled key ``key`` is, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_hash == digest(key))).first()
        if row is None or row._mapping["disabled"]:
            return None
        return _key(row._mapping)

    # ---- audit --------------------------------------------------------------------------------

    def audit(self, name: str, address: str, outcome: LoginOutcome) -> None:
        """Record a login attempt (or a logout): never the password, and the name masked (a phone typed there)."""
        row = {"at": self.clock(), "name": mask_personal_data(name)[:64], "address": address[:64], "outcome": outcome}
        with self.engine.begin() as conn:
            conn.execute(insert(login_audit).values(**row))

    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        """The latest login attempts, newest first."""
        query = select(login_audit).order_by(login_audit.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [AuditEntry(_aware(r.at), r.name, r.address, LoginOutcome(r.outcome)) for r in rows]


def _account(row: RowMapping) -> Account:
    return Account(row["id"], row["name"], Role(row["role"]), bool(row["disabled"]), _aware(row["created_at"]))


def _key(row: RowMapping) -> ApiKey:
    return ApiKey(row["name"], Role(row["role"]), row["prefix"], bool(row["disabled"]), _aware(row["created_at"]))
