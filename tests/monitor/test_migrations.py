"""Alembic migrations: a database created by the code before them is upgraded with its rows intact."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, text

from knowledge.db import open_engine
from knowledge.migrations import KNOWLEDGE, Migrations, SchemaOutdated
from knowledge.store import DocumentStore
from monitor.__main__ import main
from monitor.log import ConversationLog, Turn
from monitor.migrations import MONITOR
from monitor.workorders import WorkOrderKind, WorkOrderRequest, WorkOrderStatus, WorkOrderStore

from ..postgres import throwaway_schema
from . import old_schema

WHEN = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 11:00 in Beijing
SNAPSHOT = {
    "id": "qh-policy-1", "kind": "policy", "title": "青禾县就业补贴办法", "doc_number": "青人社发〔2023〕9号",
    "issuer": "青禾县人力资源和社会保障局", "region": "青禾县", "written_date": "2023-06-19", "published_date": None,
    "effective_date": None, "expiry_date": None, "validity": "现行有效", "source_url": "", "interprets": "",
    "replaced_by": "", "department": "", "tags": [], "body": "第一条 补贴标准为每人每月500元。", "source_path": "",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        sqlite = open_engine(f"sqlite:///{tmp_path}/old.db")
        yield sqlite
        sqlite.dispose()
        return
    with throwaway_schema("migrate") as postgres:
        yield postgres


def _fill_old_database(engine: Engine) -> None:
    """Today's tables and rows, written the way the old code wrote them."""
    old_schema.metadata.create_all(engine)
    document = {k: v for k, v in SNAPSHOT.items() if not k.endswith("_date")}
    with engine.begin() as conn:
        conn.execute(
            insert(old_schema.documents).values(
                **{**document, "tags": "[]"}, content_hash="h1", version=1, updated_at=WHEN,
                written_date=datetime(2023, 6, 19).date(),
            )
        )
        conn.execute(
            insert(old_schema.document_versions).values(
                doc_id="qh-policy-1", version=1, action="created", note="", snapshot=json.dumps(SNAPSHOT),
                changed_at=WHEN,
            )
        )
        conn.execute(
            insert(old_schema.turns).values(
                id="a" * 32, at=WHEN, channel="web", user_hash="u1", turn_key=None, question="就业补贴多少钱",
                answer="「补贴标准为每人每月500元。」", intent="ask_policy", confidence=0.8, answered=True,
                cited_doc_ids='["qh-policy-1"]', latency_ms=60.0, feedback="positive", handoff=False,
            )
        )
        for number in ("GD20261128-0001", "GD20261128-0002", "GD20261127-0005"):
            conn.execute(
                insert(old_schema.work_orders).values(
                    number=number, kind="handoff", status="open", created_at=WHEN, session="s1", summary="转人工",
                    transcript="用户：转人工", what="", where="", name="", phone="13812345678", department="县民政局",
                )
            )


def _upgrade(engine: Engine) -> None:
    for tree in (KNOWLEDGE, MONITOR):
        tree.upgrade(engine)


def test_an_old_database_is_upgraded_with_its_rows_intact(engine: Engine) -> None:
    _fill_old_database(engine)
    _upgrade(engine)
    assert (KNOWLEDGE.current(engine), MONITOR.current(engine)) == (KNOWLEDGE.head, MONITOR.head)

    store = DocumentStore(engine)
    doc = store.get("qh-policy-1")
    assert doc.doc_number == "青人社发〔2023〕9号" and "500元" in doc.body
    assert [v.action for v in store.history("qh-policy-1")] == ["created"] and store.revision() == 1

    log = ConversationLog(engine)
    turn = log.get("a" * 32)
    assert turn is not None and turn["question"] == "就业补贴多少钱" and turn["feedback"] == "positive"
    assert (turn["reply_kind"], turn["work_order"], turn["choice"]) == ("", None, None)
    pressed = Turn(channel="web", user_hash="u1", question="", choice="/feedback_positive", reply_kind="feedback")
    assert log.write(pressed)

    orders = WorkOrderStore(engine, clock=lambda: WHEN)
    old = orders.get("GD20261128-0002")
    assert old.status is WorkOrderStatus.OPEN and old.phone == "13812345678" and old.department == "县民政局"
    assert (old.idempotency_key, old.appeal_type) == (None, "")
    # numbering goes on after the day's highest number, even though the old rows had no counter
    assert orders.create(WorkOrderRequest.of(WorkOrderKind.HANDOFF)).number == "GD20261128-0003"


def test_stores_refuse_an_old_database_and_name_the_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    old = open_engine(url)
    _fill_old_database(old)
    old.dispose()
    for opening in (DocumentStore.open, ConversationLog.open, WorkOrderStore.open):
        with pytest.raises(SchemaOutdated) as refused:
            opening(url)
        assert "python -m monitor migrate" in refused.value.message and refused.value.status == 503


def test_the_command_upgrades_the_store_and_a_separate_log_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("kb", "log"):
        old = open_engine(f"sqlite:///{tmp_path}/{name}.db")
        _fill_old_database(old)
        old.dispose()
    monkeypatch.setenv("POLICY_STORE__URL", f"sqlite:///{tmp_path}/kb.db")
    monkeypatch.setenv("POLICY_CONVERSATION_LOG__URL", f"sqlite:///{tmp_path}/log.db")
    assert main(["current"]) == 1
    assert main(["migrate"]) == 0
    assert main(["current"]) == 0
    printed = capsys.readouterr().out
    assert f"monitor @ sqlite:///{tmp_path}/log.db: — → {MONITOR.head}" in printed
    log = ConversationLog.open(f"sqlite:///{tmp_path}/log.db")
    assert log.count() == 1
    log.close()


@pytest.mark.parametrize("tree", [KNOWLEDGE, MONITOR], ids=["knowledge", "monitor"])
def test_the_migrations_build_exactly_the_tables_in_code(engine: Engine, tree: Migrations) -> None:
    """A new revision is needed whenever a table in code changes; this fails until it is written."""
    tree.upgrade(engine)
    owned = set(tree.load_metadata().tables)
    with engine.connect() as conn:
        schema = (engine.get_execution_options().get("schema_translate_map") or {}).get(None)
        if schema:  # the throwaway schema: reflection reads the search_path, not the translate map
            conn.execute(text(f'SET search_path TO "{schema}"'))
        context = MigrationContext.configure(
            conn, opts={"include_name": lambda name, type_, _: type_ != "table" or name in owned}
        )
        assert compare_metadata(context, tree.load_metadata()) == []


def test_processes_opening_an_empty_database_together_create_it_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_store() -> None:
        start.wait()
        try:
            WorkOrderStore.open(url).close()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    openers = [threading.Thread(target=open_store) for _ in range(4)]
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join()
    assert errors == []
    assert MONITOR.current(open_engine(url)) == MONITOR.head
