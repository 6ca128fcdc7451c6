"""Export → import into an empty store (SQLite or PostgreSQL, either way round) gives identical documents,
history and audit, and an index that answers; a non-empty store, a damaged or unfinished backup and a used
folder are refused with a clear message."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.backup import MANIFEST, VERSIONS, BackupError, export_backup, import_backup, read_backup
from knowledge.cli import main
from knowledge.document import Validity
from knowledge.embedding import Embedder
from knowledge.reader import KnowledgeReader
from knowledge.store import DocumentStore, StoreNotEmpty
from knowledge.writer import KnowledgeWriter

from ..postgres import throwaway_schema
from .samples import LOAN_FAQ, LOAN_NEW, LOAN_OLD, MEDICAL, TAIPEI, make_settings


@contextmanager
def _store(kind: str, tmp_path: Path, name: str) -> Iterator[DocumentStore]:
    if kind == "sqlite":
        store = DocumentStore.open(f"sqlite:///{tmp_path}/{name}.db")
        yield store
        store.close()
        return
    with throwaway_schema(f"kb_{name}") as engine:
        store = DocumentStore(engine)
        yield store
        store.close()


def _fill(store: DocumentStore) -> None:
    """Documents with a history of every kind of change by several people, a deleted one included."""
    for doc in (LOAN_OLD, LOAN_NEW, LOAN_FAQ, MEDICAL):
        store.upsert(doc, note="导入", actor="cli:wang")
    store.upsert(replace(MEDICAL, body=MEDICAL.body.replace("380元", "400元")), note="调整", actor="admin:li")
    store.upsert(replace(MEDICAL, body=MEDICAL.body.replace("380元", "400元"), department="县医保局"), actor="admin:li")
    store.retire(MEDICAL.id, Validity.REPEALED, note="停止执行", actor="cli:zhao")
    store.upsert(TAIPEI, actor="cli:wang")
    store.delete(TAIPEI.id, note="不属于本县", actor="admin:li")


def _state(store: DocumentStore) -> tuple[list[object], list[object]]:
    return list(store.stored()), list(store.versions())


PAIRS = [
    ("sqlite", "sqlite"),
    pytest.param("sqlite", "postgres", marks=pytest.mark.postgres),
    pytest.param("postgres", "sqlite", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_export_then_import_gives_identical_documents_history_and_a_working_index(
    source: str, target: str, tmp_path: Path, embedder: Embedder
) -> None:
    backup = tmp_path / "backup"
    with _store(source, tmp_path, "source") as original:
        _fill(original)
        manifest = export_backup(original, backup)
        expected = _state(original)
        expected_history = original.history(MEDICAL.id)
        expected_audit = original.audit()
    assert (manifest.documents, manifest.versions) == (4, 9)
    assert {p.name for p in backup.iterdir()} == {"manifest.json", "documents.jsonl", "versions.jsonl"}

    settings = make_settings(tmp_path / "restored")
    with _store(target, tmp_path, "target") as empty:
        writer = KnowledgeWriter(settings, empty, embedder)
        seen: list[tuple[int, int, str]] = []
        import_backup(writer, backup, lambda done, total, stage: seen.append((done, total, stage)))
        assert _state(empty) == expected
        assert empty.history(MEDICAL.id) == expected_history  # versions, actors, times, notes, snapshots
        assert empty.audit() == expected_audit
        assert [v.action for v in empty.history(TAIPEI.id)] == ["created", "deleted"]
        assert empty.find(TAIPEI.id) is None
        # the store goes on from the restored numbering
        assert empty.upsert(replace(LOAN_NEW, department="县人社局"), actor="admin:li").version == 2
    assert ("checked" in {stage for *_, stage in seen}) and (9, 9, "versions") in seen and (4, 4, "indexed") in seen

    if (source, target) != ("sqlite", "sqlite"):
        return  # the index is built from the store the same way whatever its database: checked once
    reader = KnowledgeReader.open(settings)  # the index was rebuilt from what was imported
    assert reader.search("创业担保贷款最高额度")[0].doc_id == LOAN_NEW.id
    assert reader.get(MEDICAL.id).validity is Validity.REPEALED
    reader.close()


def test_import_into_a_store_that_is_not_empty_is_refused(tmp_path: Path, embedder: Embedder) -> None:
    with _store("sqlite", tmp_path, "source") as original:
        _fill(original)
        export_backup(original, tmp_path / "backup")
    with _store("sqlite", tmp_path, "busy") as busy:
        busy.upsert(LOAN_NEW, actor="cli:wang")
        writer = KnowledgeWriter(make_settings(tmp_path / "busy"), busy, embedder)
        with pytest.raises(StoreNotEmpty, match="不是空的"):
            import_backup(writer, tmp_path / "backup")
        assert [v.doc_id for v in busy.versions()] == [LOAN_NEW.id]  # nothing merged
        # history alone (every document deleted) still counts as not empty
        busy.delete(LOAN_NEW.id, actor="cli:wang")
        assert busy.count() == 0 and not busy.is_empty()
        with pytest.raises(StoreNotEmpty):
            busy.restore([], [])


def test_damaged_unfinished_or_misplaced_backups_are_refused(tmp_path: Path, embedder: Embedder) -> None:
    backup = tmp_path / "backup"
    with _store("sqlite", tmp_path, "source") as original:
        _fill(original)
        export_backup(original, backup)
        with pytest.raises(BackupError, match="不是空文件夹"):
            export_backup(original, backup)  # never over an earlier backup
    with _store("sqlite", tmp_path, "target") as empty:
        writer = KnowledgeWriter(make_settings(tmp_path / "target"), empty, embedder)
        versions = backup / VERSIONS
        intact = versions.read_text("utf-8")
        versions.write_text(intact.replace("停止执行", "停止执行了"), "utf-8")
        with pytest.raises(BackupError, match="校验值不符"):
            import_backup(writer, backup)
        versions.write_text(intact, "utf-8")
        (backup / MANIFEST).unlink()
        with pytest.raises(BackupError, match="导出没有完成"):
            import_backup(writer, backup)
        assert empty.is_empty()  # nothing was written by a refused import


def test_a_backup_whose_documents_disagree_with_their_history_is_refused(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    with _store("sqlite", tmp_path, "source") as original:
        _fill(original)
        export_backup(original, backup)
    lines = (backup / VERSIONS).read_text("utf-8").splitlines()
    lines = [line for line in lines if json.loads(line)["version"] != 4 or json.loads(line)["doc_id"] != MEDICAL.id]
    rewritten = "".join(line + "\n" for line in lines)
    (backup / VERSIONS).write_text(rewritten, "utf-8")
    manifest = json.loads((backup / MANIFEST).read_text("utf-8"))
    manifest["sha256"][VERSIONS] = hashlib.sha256(rewritten.encode("utf-8")).hexdigest()
    manifest["versions"] = len(lines)
    (backup / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(BackupError, match=f"{MEDICAL.id} 与它在 versions.jsonl 中的最后一个版本不一致"):
        read_backup(backup)


def test_export_and_import_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, target = make_settings(tmp_path / "a"), make_settings(tmp_path / "b")
    store = DocumentStore.open(source.store.url)
    _fill(store)
    store.close()
    assert main(["export", str(tmp_path / "backup")], source) == 0
    assert "已导出 4 份文件、9 个版本" in capsys.readouterr().out
    assert main(["import", str(tmp_path / "backup")], target) == 0
    assert "已导入 4 份文件、9 个版本，索引已重建" in capsys.readouterr().out
    assert main(["history", MEDICAL.id, "--json"], target) == 0
    assert [v["actor"] for v in json.loads(capsys.readouterr().out)] == ["cli:wang", "admin:li", "admin:li", "cli:zhao"]
    assert main(["import", str(tmp_path / "backup")], target) == 2
    assert "不是空的" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "backup")], source) == 2
    assert "不是空文件夹" in capsys.readouterr().err
