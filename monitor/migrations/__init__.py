"""The monitor package's migration tree (conversation log, work orders, imported messages); see knowledge.migrations.

To change a table: edit it in code (monitor/schema.py, or the module that declares it and is listed in
``_metadata``), run ``python -m monitor revision -m "what changed"``, review the generated file in
``versions/`` (numbered after the head), and run ``python -m monitor migrate``. tests/monitor/test_migrations.py
fails while the tables in code and the migrations disagree.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlalchemy import MetaData

from knowledge.migrations import Migrations


@cache
def _metadata() -> MetaData:
    """Every table this tree owns, from the modules that declare them."""
    from .. import messages, schema

    combined = MetaData()
    for declared in {id(m): m for m in (schema.metadata, messages.metadata)}.values():
        for table in declared.tables.values():
            if table.name not in combined.tables:
                table.to_metadata(combined)
    return combined


MONITOR = Migrations("monitor", Path(__file__).parent, "alembic_version_monitor", _metadata)
