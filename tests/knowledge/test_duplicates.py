"""Republished copies of one notice: found at ingest, shown once in search, counted as one in eval."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date
from pathlib import Path

from knowledge.base import KnowledgeBase
from knowledge.document import Document, Kind, Validity
from knowledge.duplicates import DuplicateFinder, jaccard, shingles
from knowledge.evaluation import Question, evaluate
from knowledge.retrieval import Filters, rank_documents

from .samples import MEDICAL

NOTICE = (
    "关于做好春季农业生产用工服务的通知 各乡镇人民政府：为保障春耕生产用工需求，现就有关事项通知如下。"
    "一、摸清用工底数。各乡镇于3月10日前完成种植大户、家庭农场和农民合作社用工需求摸底。"
    "二、开展余缺调剂。县人力资源和社会保障局每周二在县人力资源市场举办春耕用工专场招聘会。"
    "三、落实补贴政策。吸纳脱贫人口务工满1个月的农业经营主体，按每人每月300元给予一次性吸纳就业补贴。"
)


def test_shingle_overlap_separates_copies_from_different_texts() -> None:
    copy = "（来源：青禾县融媒体中心）\n" + NOTICE.replace("。", "。 ")
    other = NOTICE.replace("300元", "500元").replace("春耕", "夏收").replace("3月10日", "5月20日")
    assert jaccard(shingles(NOTICE), shingles(copy)) >= 0.9
    assert jaccard(shingles(NOTICE), shingles(other)) < 0.9


def test_finder_has_no_false_twins_among_unrelated_texts() -> None:
    rng = random.Random(7)
    alphabet = "县乡镇村民政府保险补贴申请材料办理窗口电话标准每月元年审核发放住房医疗就业创业"
    docs = {
        f"d{i}": Document(f"d{i}", f"文件{i}", "".join(rng.choice(alphabet) for _ in range(400))) for i in range(200)
    }
    assert DuplicateFinder().find(docs) == {}


def test_copies_of_another_validity_or_kind_are_never_merged_with_the_current_text() -> None:
    current = Document("new", "办法", NOTICE, published_date=date(2024, 1, 1))
    amended = Document("old", "办法", NOTICE + "。", validity=Validity.AMENDED, replaced_by="new")
    repealed = Document("gone", "办法", NOTICE + "。。", validity=Validity.REPEALED)
    same_text_faq = Document("faq", "办法", NOTICE, kind=Kind.FAQ)
    assert DuplicateFinder().find({d.id: d for d in (current, amended, repealed, same_text_faq)}) == {}


def test_ingest_reports_a_republished_copy_and_search_shows_it_once(tmp_path: Path, kb: KnowledgeBase) -> None:
    feed = tmp_path / "news.jsonl"
    records = [
        {"id": "county-site", "text": NOTICE},
        {"id": "media-center", "text": "（来源：青禾县融媒体中心）\n" + NOTICE},
    ]
    feed.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    report = kb.ingest([feed])
    assert report.count("created") == 2 and not report.errors
    assert any("media-center" in p and "county-site" in p and "内容重复" in p for p in report.duplicates), report
    assert report.problems == []  # both copies landed: nothing was skipped

    twins = kb.duplicates()
    assert set(twins) == {"media-center"} and twins["media-center"].canonical_id == "county-site"
    ranked = rank_documents(kb.search("春耕用工吸纳就业补贴每人每月多少钱", top_k=5))
    assert ranked[0] in {"county-site", "media-center"}
    assert not {"county-site", "media-center"} <= set(ranked)  # one copy, not both
    assert "medical" in rank_documents(kb.search("城乡居民医保缴费标准", top_k=5))  # others unaffected


def test_editing_a_copy_apart_makes_it_its_own_document_again(kb: KnowledgeBase) -> None:
    kb.upsert(Document("a", "通知", NOTICE))
    kb.upsert(Document("b", "通知", NOTICE + "特此通知。"))
    assert set(kb.duplicates()) == {"b"}
    rewritten = NOTICE.replace("春季农业生产", "秋季粮食收购").replace("用工", "仓储").replace("300元", "800元")
    kb.upsert(Document("b", "通知", rewritten))
    assert kb.duplicates() == {}
    ranked = rank_documents(kb.search("通知", top_k=10, filters=Filters(doc_ids=("a", "b"))))
    assert set(ranked) == {"a", "b"}


def test_eval_counts_a_copy_of_the_annotated_document_as_found(kb: KnowledgeBase) -> None:
    kb.upsert(Document("copy-1", "春季用工通知", NOTICE))
    kb.upsert(Document("copy-2", "春季用工通知", NOTICE))
    kb.upsert(replace(MEDICAL, id="medical-2", body=MEDICAL.body + "\n三、附则\n本办法自发布之日起施行。"))
    question = "吸纳脱贫人口务工的农业经营主体每人每月补贴多少"
    questions = [Question(question, gold, "按每人每月300元") for gold in ("copy-1", "copy-2")]
    result = evaluate(kb, questions, 5)
    assert result["recall@1"] == 1.0  # whichever copy is shown, it is the annotated text
    assert result["recall@1_exact_id"] == 0.5  # only one of the two ids can be first
