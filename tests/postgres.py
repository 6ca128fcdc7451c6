"""The local PostgreSQL server for store tests: an engine confined to a throwaway schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from knowledge.db import open_engine

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def throwaway_schema(prefix: str) -> Iterator[Engine]:
    """An engine whose tables live in a new schema, dropped afterwards; a clean skip without a server."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = open_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {error}")
    engine = open_engine(POSTGRES_URL).execution_options(schema_translate_map={None: schema})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
