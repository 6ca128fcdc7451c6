"""Past cases for the hotline: real messages with replies, searched by meaning over the vectors stored on import."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from knowledge.embedding import Embedder
from monitor.cases import CaseBase
from monitor.exports import read_rows
from monitor.messages import MessageStore, import_messages

from ..conftest import shared_file

COLUMNS = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间"]


@pytest.fixture(scope="module")
def case_store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[MessageStore]:
    """The first 30 real messages with replies, imported (and embedded) once for the module."""
    root = tmp_path_factory.mktemp("cases")
    _, rows = read_rows(shared_file("tipdm", "messages_with_replies.xlsx"))
    path = root / "replies.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for _, (_, row) in zip(range(30), rows, strict=False):
            writer.writerow([row[c] for c in COLUMNS])
    store = MessageStore.open(f"sqlite:///{root}/cases.db")
    report = import_messages(store, path, embedder)
    assert report.added == 30 and report.bad_rows == ()
    yield store
    store.close()


def test_a_callers_question_finds_the_past_case_with_its_reply_department_and_date(
    case_store: MessageStore, embedder: Embedder
) -> None:
    question = "潇楚南路洋湖段修了一年还没修好，什么时候能完工"
    cases = CaseBase.from_store(case_store, embedder).similar_cases(question, k=3)
    assert len(cases) == 3 and [c.score for c in cases] == sorted((c.score for c in cases), reverse=True)
    best = cases[0]
    assert best.message_id == "2554" and "潇楚南路" in best.title
    assert best.department == "A3区洋湖街道" and best.replied_at == datetime(2019, 5, 9, 9, 49, 10)
    assert "您好" not in best.gist and len(best.gist) >= 10


def test_every_case_carries_a_gist_and_the_search_needs_no_re_embedding(
    case_store: MessageStore, embedder: Embedder
) -> None:
    base = CaseBase.from_store(case_store, embedder)
    assert len(base) == 30
    for case in base.similar_cases("小区物业管理混乱", k=5):
        assert case.gist and case.department and case.replied_at is not None and case.replied_at >= case.asked_at


def test_an_empty_question_or_an_empty_case_base_finds_nothing(
    case_store: MessageStore, tmp_path: Path, embedder: Embedder
) -> None:
    assert CaseBase.from_store(case_store, embedder).similar_cases("   ") == []
    empty = MessageStore.open(f"sqlite:///{tmp_path}/empty.db")
    assert CaseBase.from_store(empty, embedder).similar_cases("小区停水") == []
    empty.close()
