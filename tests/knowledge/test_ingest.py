"""Ingesting batches of real files: bad files are reported with reasons and the rest lands."""

from __future__ import annotations

from pathlib import Path

from knowledge.base import KnowledgeBase
from knowledge.embedding import Embedder
from knowledge.retrieval import Filters
from knowledge.text import normalize

from ..conftest import SAMPLE_DIR, copy_sample, shared_file


def test_batch_with_corrupt_and_empty_files_lands_the_good_ones(kb: KnowledgeBase, tmp_path: Path) -> None:
    tmp_path = tmp_path / "batch"
    tmp_path.mkdir()
    good = tmp_path / "notice.md"
    good.write_text(
        "---\nid: notice-1\ntitle: 青禾县关于调整公交票价的通知\n---\n一、票价调整\n市区公交票价统一调整为2元。\n",
        "utf-8",
    )
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "empty.txt").write_text("  \n", "utf-8")
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("青禾县图书馆开放时间的公告\n县图书馆每周二至周日上午9时至下午5时开放。\n".encode("gbk"))
    report = kb.ingest([tmp_path])
    assert {Path(e.path).name for e in report.errors} == {"broken.pdf", "empty.txt"}
    assert all(e.reason for e in report.errors)
    assert report.count("created") == 2
    fare = kb.answer("公交票价现在多少钱")
    assert fare.answered and "市区公交票价统一调整为2元" in fare.text, fare.text  # under its heading 一、票价调整
    assert "上午9时至下午5时" in kb.answer("县图书馆几点开门").text


def test_seed_document_headings_become_chunk_heading_paths(kb: KnowledgeBase) -> None:
    seed = shared_file("seed", "gaoqing_2022_disclosure_plan.md")
    report = kb.ingest([seed])
    assert not report.errors and report.count("created") == 1
    top = kb.search("规范性文件有效性标注", top_k=3)[0]
    assert top.citation.doc_number == "高政办字〔2022〕26号"
    assert top.chunk.heading_path == ("四、深化政务公开基础工作", "（十）强化政府公文规范公开")


def test_reingesting_the_sample_changes_nothing(sample_template: Path, tmp_path: Path, embedder: Embedder) -> None:
    kb = KnowledgeBase.open(copy_sample(sample_template, tmp_path / "kb"), embedder)
    assert kb.store.count() >= 30
    generation = kb.generation
    again = kb.ingest([SAMPLE_DIR])
    assert not again.errors and again.count("unchanged") == kb.store.count()
    assert kb.generation == generation  # nothing re-embedded, no new index generation
    kb.close()


def test_taipei_faq_in_traditional_script_is_found_by_its_title_in_simplified_script(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    lines = shared_file("tpe", "faq.jsonl").read_text("utf-8").splitlines()[:200]
    subset = tmp_path / "tpe.jsonl"
    subset.write_text("\n".join(lines) + "\n", "utf-8")
    report = kb.ingest([subset])
    assert report.count("created") >= 190
    target = next(d for d in kb.documents().values() if d.id.startswith("GIP_") and normalize(d.title) != d.title)
    passages = kb.search(normalize(target.title), top_k=5, filters=Filters(include_retired=True))
    hit = next(p for p in passages if p.doc_id == target.id)
    assert normalize(hit.chunk.text) != hit.chunk.text  # shown in its original traditional script
