"""The writer: delete then re-add, generations that carry their documents, batches published as an
ingest goes, and a writer that takes up what another writer published instead of re-embedding it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.base import KnowledgeBase
from knowledge.embedding import Embedder
from knowledge.index import read_documents
from knowledge.reader import KnowledgeReader
from knowledge.settings import Settings
from knowledge.writer import KnowledgeWriter

from .samples import LOAN_NEW, MEDICAL, SMALL_SET


@dataclass
class RecordingEmbedder:
    """The real model, remembering which passages it was asked to embed."""

    inner: Embedder
    passages: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.passages.extend(texts)
        return self.inner.embed_passages(texts, batch_size)


def test_deleted_document_can_be_added_again_and_its_history_continues(kb: KnowledgeBase) -> None:
    assert kb.delete("medical").version == 2
    assert kb.find("medical") is None
    change = kb.upsert(MEDICAL, note="重新发布")
    assert (change.action, change.version) == ("created", 3)
    assert [(v.version, v.action) for v in kb.history("medical")] == [(1, "created"), (2, "deleted"), (3, "created")]
    answer = kb.answer("城乡居民医保个人缴费标准")
    assert answer.answered and answer.citation is not None and answer.citation.doc_id == "medical"


def test_deleted_document_can_be_ingested_again_in_a_batch(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.delete("medical")
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        json.dumps({"id": "medical", "title": MEDICAL.title, "text": MEDICAL.body}, ensure_ascii=False)
        + "\n"
        + json.dumps(
            {"id": "parking", "text": "青禾县停车收费标准 一、收费标准 路边停车每小时3元。"}, ensure_ascii=False
        )
        + "\n",
        "utf-8",
    )
    report = kb.ingest([batch])
    assert not report.errors and report.count("created") == 2
    assert kb.search("城乡居民医保个人缴费标准")[0].doc_id == "medical"
    assert kb.search("路边停车每小时多少钱")[0].doc_id == "parking"


def test_generation_carries_every_document_with_its_metadata(kb: KnowledgeBase) -> None:
    assert kb.generation is not None
    carried = read_documents(kb.generation)
    assert carried == {doc.id: doc for doc in SMALL_SET}


@dataclass
class SlowEmbedder(RecordingEmbedder):
    """The real model on a slower machine: embedding, not writing the index, dominates an ingest's time."""

    calls: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each embedding call

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        start = time.monotonic()
        time.sleep(0.3)
        vectors = super().embed_passages(texts, batch_size)
        self.calls.append((start, time.monotonic()))
        return vectors


NOTICES = 12  # about 45 characters each: four batches of 100 characters


def _notices(tmp_path: Path) -> Path:
    batch = tmp_path / "batch.jsonl"
    with open(batch, "w", encoding="utf-8") as out:
        for i in range(NOTICES):
            text = f"青禾县第{i}号通知 一、事项 关于第{i}批次农田水利工作安排的说明，请各乡镇按时完成并上报。"
            out.write(json.dumps({"id": f"notice-{i}", "text": text}, ensure_ascii=False) + "\n")
    return batch


def test_long_ingest_publishes_a_generation_per_batch(settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    settings.index.publish_chars = 100
    settings.index.publish_interval_s = 0.0
    writer = KnowledgeWriter.open(settings, SlowEmbedder(embedder))
    report = writer.ingest([_notices(tmp_path)])
    assert len(report.generations) >= 3  # about 45 characters a notice: a generation every few of them
    reader = KnowledgeReader.open(settings, embedder)
    assert set(reader.documents()) == {f"notice-{i}" for i in range(NOTICES)}
    writer.close()


def test_after_the_first_batch_an_ingest_publishes_at_most_once_per_interval(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    settings.index.publish_chars = 100
    settings.index.publish_interval_s = 3600.0
    writer = KnowledgeWriter.open(settings, SlowEmbedder(embedder))
    report = writer.ingest([_notices(tmp_path)])
    # the first batch at once (answerable within seconds), then nothing until the last: every reader reloads
    # each generation, so publishing each batch costs the citizens' CPU
    assert len(report.generations) == 2
    assert set(KnowledgeReader.open(settings, embedder).documents()) == {f"notice-{i}" for i in range(NOTICES)}
    writer.close()


def test_an_ingest_below_full_duty_pauses_between_batches_for_the_servers(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    settings.index.publish_chars = 100
    settings.index.embed_duty = 0.5
    slow = SlowEmbedder(embedder)
    writer = KnowledgeWriter.open(settings, slow)
    writer.ingest([_notices(tmp_path)])
    assert len(slow.calls) >= 3
    for (start, end), (next_start, _) in zip(slow.calls, slow.calls[1:], strict=False):
        assert next_start - end >= 0.9 * (end - start)  # at duty 0.5 as long a pause as the embedding took
    writer.close()


def test_writer_takes_up_what_another_writer_published_without_reembedding_it(
    settings: Settings, embedder: Embedder
) -> None:
    first = KnowledgeWriter.open(settings, RecordingEmbedder(embedder))
    first.upsert(LOAN_NEW)
    other = KnowledgeWriter.open(settings, embedder)
    other.upsert(MEDICAL)  # published by another writer since the first one's last write
    recording = first.embedder
    assert isinstance(recording, RecordingEmbedder)
    recording.passages.clear()
    first.upsert(SMALL_SET[4])
    assert not any("380元" in text for text in recording.passages)  # MEDICAL came with the generation
    reader = KnowledgeReader.open(settings, embedder)
    assert {"loan-2023", "medical", "tpe-1"} <= set(reader.documents())
    assert reader.search("城乡居民医保个人缴费标准")[0].doc_id == "medical"
    first.close()
    other.close()
