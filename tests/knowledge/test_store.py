"""One contract for the document store, run on SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.document import Validity
from knowledge.errors import DocumentNotFound
from knowledge.store import DocumentStore

from ..postgres import throwaway_schema
from .samples import LOAN_FAQ, LOAN_NEW, LOAN_OLD, MEDICAL


def _postgres_store() -> Iterator[DocumentStore]:
    with throwaway_schema("kb_test") as engine:
        store = DocumentStore(engine)
        yield store
        store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    if request.param == "sqlite":
        sqlite = DocumentStore.open(f"sqlite:///{tmp_path}/store.db")
        yield sqlite
        sqlite.close()
    else:
        yield from _postgres_store()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = DocumentStore.open(f"sqlite:///{tmp_path}/wal.db")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


def test_create_then_get_round_trips_every_field(store: DocumentStore) -> None:
    assert store.upsert(LOAN_NEW).action == "created"
    assert store.get(LOAN_NEW.id) == LOAN_NEW


def test_unchanged_upsert_writes_no_version(store: DocumentStore) -> None:
    store.upsert(MEDICAL)
    assert store.upsert(MEDICAL).action == "unchanged"
    assert len(store.history(MEDICAL.id)) == 1


def test_update_and_relabel_are_versioned(store: DocumentStore) -> None:
    store.upsert(MEDICAL)
    assert store.upsert(replace(MEDICAL, body=MEDICAL.body + "三、附则"), note="补充").action == "updated"
    assert store.upsert(replace(MEDICAL, department="县医保局", body=MEDICAL.body + "三、附则")).action == "relabelled"
    history = store.history(MEDICAL.id)
    assert [(v.version, v.action) for v in history] == [(1, "created"), (2, "updated"), (3, "relabelled")]
    assert history[1].note == "补充" and history[0].document == MEDICAL


def test_retire_names_the_replacement(store: DocumentStore) -> None:
    store.upsert(LOAN_NEW)
    store.upsert(replace(LOAN_OLD, validity=Validity.CURRENT, replaced_by=""))
    change = store.retire(LOAN_OLD.id, Validity.REPEALED, replaced_by=LOAN_NEW.id)
    assert change.action == "retired"
    retired = store.get(LOAN_OLD.id)
    assert retired.validity is Validity.REPEALED and retired.replaced_by == LOAN_NEW.id


def test_retire_to_missing_replacement_changes_nothing(store: DocumentStore) -> None:
    store.upsert(MEDICAL)
    with pytest.raises(DocumentNotFound):
        store.retire(MEDICAL.id, Validity.REPEALED, replaced_by="missing")
    assert store.get(MEDICAL.id).validity is Validity.CURRENT


def test_delete_keeps_history(store: DocumentStore) -> None:
    store.upsert(MEDICAL)
    store.delete(MEDICAL.id, note="误导入")
    with pytest.raises(DocumentNotFound):
        store.get(MEDICAL.id)
    assert [v.action for v in store.history(MEDICAL.id)] == ["created", "deleted"]
    assert MEDICAL.id not in store.hashes()


def test_interpretations_are_linked_to_their_policy(store: DocumentStore) -> None:
    for doc in (LOAN_NEW, LOAN_FAQ, MEDICAL):
        store.upsert(doc)
    assert [d.id for d in store.interpretations_of(LOAN_NEW.id)] == [LOAN_FAQ.id]
    assert store.interpretations_of(MEDICAL.id) == []
    assert store.count() == 3
