"""Alembic migrations, one tree per package, each with its own version table, on SQLite and PostgreSQL.

A store opens only a database at its tree's head. An empty database is brought to head on open (under a
lock, so two processes starting together create it once); a database with an older schema — an older
revision, or today's tables from before the migrations — is refused with a message naming the command
that upgrades it (``python -m monitor migrate``, which ``make setup`` runs): an application process never
alters a production schema by itself.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect, text

from ..errors import KnowledgeError

log = logging.getLogger(__name__)

MIGRATE_COMMAND = "python -m monitor migrate"


class SchemaOutdated(KnowledgeError):
    """The database holds an older schema than this code; the message says how to upgrade it."""

    code = "schema_outdated"
    status = 503

    def __init__(self, tree: str, current: str | None, head: str) -> None:
        found = f"revision {current}" if current else "tables from before the migrations"
        needs = f"this code needs revision {head}"
        super().__init__(f"the {tree} database has {found}, {needs}: run `{MIGRATE_COMMAND}` (make setup does)")


@dataclass(frozen=True)
class Migrations:
    """One package's migration tree: its folder, version table and the tables it owns."""

    name: str
    folder: Path
    version_table: str
    load_metadata: Callable[[], MetaData] = field(repr=False)

    @cached_property
    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config())

    @property
    def head(self) -> str:
        head = self.script.get_current_head()
        assert head is not None, f"{self.folder} has no revision"
        return head

    def config(self, connection: Connection | None = None) -> Config:
        """An Alembic config for this tree without an ini file; env.py reads the connection from it."""
        config = Config()
        config.set_main_option("script_location", str(self.folder))
        config.attributes["tree"] = self
        config.attributes["connection"] = connection
        return config

    def current(self, engine: Engine) -> str | None:
        """The revision the database is at; None for a database this tree never migrated."""
        with engine.connect() as conn:
            _follow_schema(conn)
            return MigrationContext.configure(conn, opts={"version_table": self.version_table}).get_current_revision()

    def owned_tables(self, engine: Engine) -> list[str]:
        """Which of this tree's tables exist in the database (the version table aside)."""
        with engine.connect() as conn:
            _follow_schema(conn)
            present = set(inspect(conn).get_table_names())
        return sorted(present & set(self.load_metadata().tables))

    def ensure(self, engine: Engine) -> None:
        """Accept a database at head, create an empty one, refuse an older one with SchemaOutdated."""
        current = self.current(engine)
        if current == self.head:
            return
        if current is None and not self.owned_tables(engine):
            self.upgrade(engine)
            return
        with self._lock(engine):  # another process may have upgraded it meanwhile
            current = self.current(engine)
        if current != self.head:
            raise SchemaOutdated(self.name, current, self.head)

    def upgrade(self, engine: Engine, revision: str = "head") -> None:
        """Apply every revision up to ``revision``; one process at a time per database."""
        with self._lock(engine), engine.begin() as conn:
            _follow_schema(conn, local=True)
            command.upgrade(self.config(conn), revision)
        log.info("%s database at revision %s", self.name, self.current(engine))

    def revision(self, message: str, autogenerate: bool = True) -> Path:
        """Write a new revision file: the difference between the tables in code and a database at head."""
        from sqlalchemy import create_engine

        scratch = create_engine("sqlite://")
        with scratch.begin() as conn:
            command.upgrade(self.config(conn), "head")
            rev_id = f"{int(self.head) + 1:04d}" if self.head.isdigit() else None
            script = command.revision(self.config(conn), message, autogenerate=autogenerate, rev_id=rev_id)
        scratch.dispose()
        assert script is not None and not isinstance(script, list)
        return Path(script.path)

    @contextmanager
    def _lock(self, engine: Engine) -> Iterator[None]:
        """PostgreSQL: an advisory lock; SQLite: a lock file beside the database file."""
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                key = f"{self.version_table}"
                conn.execute(text("SELECT pg_advisory_lock(hashtext(:key))"), {"key": key})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": key})
                    conn.commit()
            return
        database = engine.url.database
        if engine.dialect.name != "sqlite" or not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield


def _follow_schema(conn: Connection, local: bool = False) -> None:
    """Point PostgreSQL's search_path at the schema an engine's schema_translate_map names.

    Alembic renders some statements (ALTER TABLE, the inspector's lookups) with unqualified names, which only
    the search_path directs; tables built from Table objects follow the translate map. Both then agree."""
    translate: dict[Any, Any] = conn.get_execution_options().get("schema_translate_map") or {}
    schema = translate.get(None)
    if schema and conn.dialect.name == "postgresql":
        quoted = conn.dialect.identifier_preparer.quote_identifier(schema)
        conn.execute(text(f"SET {'LOCAL ' if local else ''}search_path TO {quoted}"))


def run_env() -> None:
    """The body of every tree's env.py: migrate the connection the caller put in the config."""
    from alembic import context

    tree: Migrations = context.config.attributes["tree"]
    connection: Connection = context.config.attributes["connection"]
    owned = set(tree.load_metadata().tables)

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        # stores share a database: autogenerate compares only this tree's own tables
        return type_ != "table" or name in owned

    context.configure(
        connection=connection,
        target_metadata=tree.load_metadata(),
        version_table=tree.version_table,
        include_name=include_name,
        render_as_batch=True,  # SQLite alters a table by copying it; batch mode does that for us
    )
    with context.begin_transaction():
        context.run_migrations()


def _knowledge_metadata() -> MetaData:
    from ..store import metadata

    return metadata


KNOWLEDGE = Migrations("knowledge", Path(__file__).parent, "alembic_version_knowledge", _knowledge_metadata)
