"""The coverage check: a question whose key terms the knowledge base never mentions is not answered."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.chunking import chunk_document
from knowledge.coverage import Coverage, key_terms
from knowledge.document import Document
from knowledge.index import HybridIndex
from knowledge.text import tokenize

DOCS = (
    Document(
        id="id-card",
        title="居民身份证办理问答",
        body="问：身份证到期了怎么换领？\n答：到户籍所在地派出所换领，收费20元。",
    ),
    Document(
        id="fund", title="住房公积金租房提取", body="无自有住房职工租赁住房可提取住房公积金，每人每年最高12000元。"
    ),
)


def put(index: HybridIndex, doc: Document) -> None:
    chunks = chunk_document(doc, 300)
    tokens = [tokenize(c.indexed_text) for c in chunks]
    index.put_document(doc.id, doc.content_hash, chunks, tokens, np.zeros((len(chunks), 1), np.float32))


@pytest.fixture
def coverage() -> Coverage:
    index = HybridIndex("none", 1)
    for doc in DOCS:
        put(index, doc)
    return Coverage(index)


def test_key_terms_leave_out_question_words_and_function_words() -> None:
    assert key_terms("驾照到期了怎么换") == ["驾照"]
    assert "怎么办" not in key_terms("手机老是卡怎么办")
    assert key_terms("多少钱") == []


@pytest.mark.parametrize("question", ["驾照到期了怎么换", "红烧肉怎么做才好吃", "世界杯谁是冠军"])
def test_a_question_on_what_the_base_never_mentions_is_not_covered(coverage: Coverage, question: str) -> None:
    assert not coverage.covers(question)
    assert coverage.missing(question)


@pytest.mark.parametrize(
    "question", ["身份证到期了怎么换", "身份证丢了 过两天就要坐高铁怎么办", "租房提取公积金", "多少钱"]
)
def test_a_question_whose_subject_the_base_holds_is_covered(coverage: Coverage, question: str) -> None:
    # 高铁 occurs nowhere, but the question is about the 身份证, which does
    assert coverage.covers(question)


def test_a_document_added_to_the_index_covers_its_subject(coverage: Coverage) -> None:
    assert not coverage.covers("驾照到期了怎么换")
    put(coverage.index, Document(id="licence", title="机动车驾驶证换证", body="驾照有效期满前90日内申请换证。"))
    assert coverage.covers("驾照到期了怎么换")
