"""History and audit: who changed what and when, a diff between any two versions, never deleted (retired and
deleted documents included), on SQLite and PostgreSQL; the audit column arrives by migration 0002."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from knowledge.cli import main
from knowledge.db import open_engine
from knowledge.document import Validity, document_record
from knowledge.history import VersionNotFound, diff_versions, format_diff, inline_diff, pick_versions, split_sentences
from knowledge.migrations import KNOWLEDGE
from knowledge.settings import Settings
from knowledge.store import DocumentStore
from monitor.__main__ import main as monitor_main

from ..postgres import throwaway_schema
from .samples import LOAN_NEW, MEDICAL

WHEN = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    if request.param == "sqlite":
        sqlite = DocumentStore.open(f"sqlite:///{tmp_path}/store.db")
        yield sqlite
        sqlite.close()
        return
    with throwaway_schema("kb_history") as engine:
        postgres = DocumentStore(engine)
        yield postgres
        postgres.close()


def _edit_medical(store: DocumentStore) -> None:
    """Four versions by three people: created, body amended, relabelled, retired."""
    store.upsert(MEDICAL, note="导入", actor="cli:wang")
    amended = MEDICAL.body.replace("每人每年380元", "每人每年400元")
    store.upsert(replace(MEDICAL, body=amended), note="调整缴费标准", actor="admin:li")
    store.upsert(replace(MEDICAL, body=amended, doc_number="青政办发〔2025〕1号"), actor="admin:li")
    store.retire(MEDICAL.id, Validity.REPEALED, note="被新办法替代", actor="cli:zhao")


def test_every_change_records_who_made_it_and_when(store: DocumentStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    _edit_medical(store)
    history = store.history(MEDICAL.id)
    assert [(v.version, v.action, v.actor) for v in history] == [
        (1, "created", "cli:wang"),
        (2, "updated", "admin:li"),
        (3, "relabelled", "admin:li"),
        (4, "retired", "cli:zhao"),
    ]
    assert all(v.changed_at.tzinfo is not None and before <= v.changed_at <= datetime.now(UTC) for v in history)
    assert [v.changed_at for v in history] == sorted(v.changed_at for v in history)
    assert history[-1].document.validity is Validity.REPEALED and history[-1].note == "被新办法替代"


def test_a_change_without_an_actor_is_refused_and_writes_nothing(store: DocumentStore) -> None:
    with pytest.raises(ValueError, match="actor"):
        store.upsert(MEDICAL, actor=" ")
    assert store.is_empty()


def test_the_audit_lists_every_change_newest_first_and_filters_by_actor(store: DocumentStore) -> None:
    _edit_medical(store)
    store.upsert(LOAN_NEW, actor="cli:wang")
    store.delete(LOAN_NEW.id, note="误导入", actor="admin:li")
    audit = store.audit()
    assert [(v.doc_id, v.action) for v in audit] == [
        (LOAN_NEW.id, "deleted"),
        (LOAN_NEW.id, "created"),
        (MEDICAL.id, "retired"),
        (MEDICAL.id, "relabelled"),
        (MEDICAL.id, "updated"),
        (MEDICAL.id, "created"),
    ]
    assert [(v.doc_id, v.version) for v in store.audit(actor="cli:wang")] == [(LOAN_NEW.id, 1), (MEDICAL.id, 1)]
    assert store.audit(since=datetime.now(UTC) + timedelta(hours=1)) == []
    assert len(store.audit(limit=2)) == 2


def test_retired_and_deleted_documents_keep_their_whole_history(store: DocumentStore) -> None:
    _edit_medical(store)
    store.delete(MEDICAL.id, note="清理", actor="admin:li")
    store.upsert(MEDICAL, actor="cli:wang")  # added again: the numbering goes on
    assert [v.action for v in store.history(MEDICAL.id)] == [
        "created",
        "updated",
        "relabelled",
        "retired",
        "deleted",
        "created",
    ]
    assert store.history(MEDICAL.id)[-1].version == 6


def test_a_diff_names_changed_fields_and_sentences(store: DocumentStore) -> None:
    _edit_medical(store)
    history = store.history(MEDICAL.id)

    body = diff_versions(*pick_versions(history, 1, 2))
    assert body.fields == ()
    assert "-城乡居民医保个人缴费标准为每人每年380元。" in body.body
    assert "+城乡居民医保个人缴费标准为每人每年400元。" in body.body
    assert [c.inline for c in body.sentences] == ["城乡居民医保个人缴费标准为每人每年[-380-]{+400+}元。"]
    # only the changed sentence and its neighbours appear, not the whole unchanged text
    assert not any("报销比例" in line for line in body.body)

    labels = diff_versions(*pick_versions(history, 2, 4))
    assert [(c.label, c.old, c.new) for c in labels.fields] == [
        ("文号", "青政办发〔2024〕3号", "青政办发〔2025〕1号"),
        ("有效性", "现行有效", "已废止"),
    ]
    assert labels.body == () and labels.changed

    across = diff_versions(*pick_versions(history, 1, 4))  # any two versions, not only neighbours
    assert len(across.fields) == 2 and across.sentences
    backwards = diff_versions(*pick_versions(history, 4, 1))
    assert [(c.old, c.new) for c in backwards.fields][0] == ("青政办发〔2025〕1号", "青政办发〔2024〕3号")
    same = diff_versions(history[0], history[0])
    assert not same.changed and "内容相同" in format_diff(same)


def test_default_versions_and_an_unknown_version() -> None:
    store = DocumentStore.open("sqlite://")
    _edit_medical(store)
    history = store.history(MEDICAL.id)
    assert [v.version for v in pick_versions(history)] == [3, 4]
    assert [v.version for v in pick_versions(history, new=2)] == [1, 2]
    assert [v.version for v in pick_versions(history[:1])] == [1, 1]
    with pytest.raises(VersionNotFound, match="现有版本：1, 2, 3, 4"):
        pick_versions(history, 1, 9)
    store.close()


def test_sentences_split_a_flattened_chinese_text() -> None:
    flat = "第一条 为规范管理，制定本办法。第二条 本办法适用于全县；乡镇参照执行！“以上。”附件1"
    assert split_sentences(flat) == [
        "第一条 为规范管理，制定本办法。",
        "第二条 本办法适用于全县；",
        "乡镇参照执行！",
        "“以上。”",
        "附件1",
    ]
    assert split_sentences("一、总则\n\n内容。") == ["一、总则", "内容。"]
    assert inline_diff("报销比例为70%。", "政策范围内报销比例为75%。") == "{+政策范围内+}报销比例为[-70%-]{+75%+}。"


def test_the_command_line_records_its_user_and_lists_history_and_diffs(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in" / "fee.md"
    source.parent.mkdir()
    source.write_text(
        "---\nid: fee\ntitle: 青禾县停车收费标准\n有效性: 现行有效\n---\n一、收费标准\n路边停车每小时3元。\n", "utf-8"
    )
    assert main(["ingest", str(source)], settings) == 0
    source.write_text(source.read_text("utf-8").replace("3元", "4元"), "utf-8")
    assert main(["ingest", str(source)], settings) == 0
    assert main(["retire", "fee", "--validity", "已废止", "--note", "停止收费"], settings) == 0
    capsys.readouterr()

    assert main(["history", "fee", "--json"], settings) == 0
    listed = json.loads(capsys.readouterr().out)
    actor = f"cli:{getpass.getuser()}"
    assert [(v["version"], v["action"], v["actor"]) for v in listed] == [
        (1, "created", actor),
        (2, "updated", actor),
        (3, "retired", actor),
    ]
    assert listed[2]["validity"] == "已废止" and listed[2]["note"] == "停止收费"

    assert main(["history", "fee"], settings) == 0
    printed = capsys.readouterr().out
    assert "fee（当前）：3 个版本" in printed and f"retired    {actor}" in printed and "【已废止】" in printed

    assert main(["diff", "fee", "1", "2"], settings) == 0
    assert "路边停车每小时[-3-]{+4+}元。" in capsys.readouterr().out
    assert main(["diff", "fee", "--json"], settings) == 0
    diff = json.loads(capsys.readouterr().out)
    assert (diff["old"]["version"], diff["new"]["version"]) == (2, 3)
    assert diff["fields"] == [{"field": "validity", "label": "有效性", "old": "现行有效", "new": "已废止"}]

    assert main(["audit", "--actor", actor, "--json"], settings) == 0
    assert [v["action"] for v in json.loads(capsys.readouterr().out)] == ["retired", "updated", "created"]
    assert main(["audit", "--since", (date.today() + timedelta(days=2)).isoformat()], settings) == 0
    assert "没有符合条件的修改记录" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["audit", "--since", "2026/12/01"], settings)
    assert refused.value.code == 2 and "日期应写作 YYYY-MM-DD" in capsys.readouterr().err

    assert main(["diff", "fee", "1", "7"], settings) == 2
    assert "没有版本 7" in capsys.readouterr().err
    assert main(["history", "nothing-here"], settings) == 2
    assert "nothing-here" in capsys.readouterr().err


def _database_at_0001(url: str) -> None:
    """A store as migration 0001 left it, with a change recorded before the audit existed."""
    engine = open_engine(url)
    KNOWLEDGE.upgrade(engine, "0001")
    insert_version = text(
        "INSERT INTO document_versions (doc_id, version, action, note, snapshot, changed_at) "
        "VALUES (:doc_id, 1, 'created', '', :snapshot, :changed_at)"
    )
    with engine.begin() as conn:
        conn.execute(insert_version, {"doc_id": MEDICAL.id, "snapshot": document_record(MEDICAL), "changed_at": WHEN})
    engine.dispose()


def test_migration_0002_adds_the_audit_and_monitor_migrate_runs_the_knowledge_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/kb.db"
    _database_at_0001(url)
    monkeypatch.setenv("POLICY_STORE__URL", url)
    monkeypatch.setenv("POLICY_CONVERSATION_LOG__URL", url)
    assert monitor_main(["migrate"]) == 0
    assert f"knowledge @ {url}: 0001 → {KNOWLEDGE.head}" in capsys.readouterr().out
    assert KNOWLEDGE.head == "0002"
    store = DocumentStore.open(url)
    old = store.history(MEDICAL.id)[0]
    assert (old.actor, old.changed_at) == ("", WHEN)
    assert store.upsert(replace(MEDICAL, title="青禾县城乡居民医疗保险办法"), actor="cli:wang").version == 2
    assert store.history(MEDICAL.id)[1].actor == "cli:wang"
    store.close()
