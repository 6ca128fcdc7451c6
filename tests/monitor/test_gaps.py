"""Knowledge gaps from log rows the test writes: which turns count, clusters, trend, and the closest documents."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from knowledge.base import KnowledgeBase
from knowledge.embedding import Embedder
from knowledge.reader import KnowledgeReader
from knowledge.settings import Settings
from monitor.gaps import CHINA, GapSettings, KnowledgeGaps, find_gaps, gap_questions
from monitor.log import ConversationLog, Turn

from ..conftest import SAMPLE_DIR
from ..postgres import throwaway_schema

KB_DOCUMENTS = ("guide-housing-fund-rent-withdrawal", "faq-household-registration", "faq-social-insurance")
START, END = datetime(2026, 11, 1), datetime(2026, 12, 1)  # China local time, as a report's dates


def local(day: int, hour: int = 10, month: int = 11) -> datetime:
    """A UTC timestamp from a China local day of 2026 (the log keeps UTC)."""
    return datetime(2026, month, day, hour, tzinfo=CHINA).astimezone(UTC)


def turn(
    question: str, kind: str, at: datetime, confidence: float | None = None, user: str = "u", **extra: Any
) -> Turn:
    return Turn(
        channel=str(extra.pop("channel", "web")),
        user_hash=user,
        question=question,
        reply_kind=kind,
        confidence=confidence,
        answered=kind == "answer",
        at=at,
        **extra,
    )


def write_turns(log: ConversationLog) -> dict[str, str]:
    """A month of turns: three gaps (one also asked the month before), plus turns that must not count."""
    rows = [
        # 电动自行车上牌: not in the sample knowledge base, four ways, two channels → a new gap
        turn("电动自行车怎么上牌", "no_answer", local(3), user="a"),
        turn("电瓶车上牌照去哪里办", "no_answer", local(9), user="b", channel="wechat"),
        turn("新买的电动车如何登记挂牌", "no_answer", local(15), user="c"),
        turn("电动自行车上牌需要什么材料", "no_answer", local(28), user="d", channel="telegram"),
        # 养犬登记: no answer twice and one weak answer; asked once in October → rising
        turn("养犬登记在哪里办理", "no_answer", local(5), user="e"),
        turn("养狗需要办什么证件", "answer", local(12), 0.45, user="f"),
        turn("犬只登记需要带什么", "no_answer", local(30, 23), user="g"),  # 2026-11-30 15:00 UTC: inside
        turn("狗证怎么办", "no_answer", local(20, month=10), user="h"),
        # 公积金租房提取: answered confidently, and the citizens said 没用 (feedback column, then the button)
        turn("公积金可以提取付房租吗", "answer", local(7), 0.91, user="i"),
        turn("租房提取住房公积金怎么办理", "answer", local(18), 0.88, user="j"),
        turn("", "feedback", local(18) + timedelta(minutes=1), user="j", choice="/feedback_negative"),
        # none of these is a gap
        turn("创业担保贷款申请条件是什么", "answer", local(8), 0.93, user="k"),
        turn("你好", "smalltalk", local(8), user="k"),
        turn("", "feedback", local(8) + timedelta(minutes=1), user="k", choice="/feedback_positive"),
        turn("电动车上牌在哪个窗口", "no_answer", local(1, 1, month=12), user="l"),  # Dec 1 01:00 China: after the end
    ]
    for row in rows:
        assert log.write(row)
    assert log.set_feedback(rows[8].id, "negative")  # 没用 pressed on the web chat: the API records it on the turn
    return {row.question: row.id for row in rows if row.question}


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[KnowledgeReader]:
    """A knowledge base of three sample documents (the whole sample takes minutes to embed on a busy machine)."""
    root = tmp_path_factory.mktemp("gaps-kb")
    (root / "docs").mkdir()
    for name in KB_DOCUMENTS:
        shutil.copy(SAMPLE_DIR / f"{name}.md", root / "docs")
    settings = Settings()
    settings.store.url = f"sqlite:///{root}/kb.db"
    settings.index.dir = root / "index"
    kb = KnowledgeBase.open(settings, embedder)
    assert not kb.ingest([root / "docs"]).errors
    kb.close()
    opened = KnowledgeReader.open(settings, embedder)
    yield opened
    opened.close()


@pytest.fixture
def log(tmp_path: Path) -> Iterator[ConversationLog]:
    opened = ConversationLog.open(f"sqlite:///{tmp_path}/log.db")
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def gaps(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, reader: KnowledgeReader) -> KnowledgeGaps:
    log = ConversationLog.open(f"sqlite:///{tmp_path_factory.mktemp('gaps-log')}/log.db")
    write_turns(log)
    found = find_gaps(log.engine, START, END, embedder, reader)
    log.close()
    return found


def test_unanswered_weak_and_unhelpful_questions_are_found_in_the_period(log: ConversationLog) -> None:
    ids = write_turns(log)
    found = {q.question: q.reason for q in gap_questions(log.engine, START, END)}
    assert found == {
        "电动自行车怎么上牌": "no_answer",
        "电瓶车上牌照去哪里办": "no_answer",
        "新买的电动车如何登记挂牌": "no_answer",
        "电动自行车上牌需要什么材料": "no_answer",
        "养犬登记在哪里办理": "no_answer",
        "养狗需要办什么证件": "low_confidence",
        "犬只登记需要带什么": "no_answer",
        "公积金可以提取付房租吗": "unhelpful",
        "租房提取住房公积金怎么办理": "unhelpful",
    }
    assert [q.turn_id for q in gap_questions(log.engine, START, END) if q.question == "狗证怎么办"] == []
    october = gap_questions(log.engine, datetime(2026, 10, 1), START)
    assert [q.turn_id for q in october] == [ids["狗证怎么办"]]


def test_questions_cluster_by_meaning_with_trend_and_examples(gaps: KnowledgeGaps) -> None:
    assert (gaps.questions, gaps.previous_questions) == (9, 1)
    assert gaps.reasons == {"no_answer": 6, "low_confidence": 1, "unhelpful": 2}
    clusters = {frozenset(c.examples): c for c in gaps.clusters}
    ebike = frozenset(
        {"电动自行车怎么上牌", "电瓶车上牌照去哪里办", "新买的电动车如何登记挂牌", "电动自行车上牌需要什么材料"}
    )
    dogs = frozenset({"养犬登记在哪里办理", "养狗需要办什么证件", "犬只登记需要带什么"})
    fund = frozenset({"公积金可以提取付房租吗", "租房提取住房公积金怎么办理"})
    assert set(clusters) == {ebike, dogs, fund}, [c.examples for c in gaps.clusters]
    assert gaps.clusters[0] is clusters[ebike]  # largest first
    assert (clusters[ebike].size, clusters[ebike].trend, clusters[ebike].channels) == (
        4,
        "新增",
        {"web": 2, "wechat": 1, "telegram": 1},
    )
    assert (clusters[dogs].size, clusters[dogs].previous, clusters[dogs].trend) == (3, 1, "上升")
    assert clusters[dogs].reasons == {"no_answer": 2, "low_confidence": 1}
    assert clusters[fund].reasons == {"unhelpful": 2}


def test_each_cluster_names_the_closest_documents_of_the_knowledge_base(gaps: KnowledgeGaps) -> None:
    fund = next(c for c in gaps.clusters if "公积金可以提取付房租吗" in c.examples)
    assert fund.documents and fund.documents[0].doc_id == "qh-guide-housing-fund-rent-withdrawal"
    assert fund.documents[0].title == "住房公积金租房提取办事指南"
    assert all(len(c.documents) <= 3 for c in gaps.clusters)
    entry = gaps.to_json()["clusters"][0]
    assert {"size", "previous", "trend", "examples", "documents", "reasons", "question"} <= set(entry)
    assert entry["reasons"] == {"未能回答": 4}


def test_no_questions_no_clusters_and_a_reversed_period_is_refused(log: ConversationLog, embedder: Embedder) -> None:
    empty = find_gaps(log.engine, START, END, embedder)
    assert (empty.questions, empty.clusters) == (0, ())
    with pytest.raises(ValueError, match="end"):
        find_gaps(log.engine, END, START, embedder)
    with pytest.raises(ValueError):
        GapSettings(low_confidence=2)


@pytest.mark.postgres
def test_the_period_bounds_hold_on_postgresql() -> None:
    with throwaway_schema("gaps") as engine:
        log = ConversationLog(engine)
        write_turns(log)
        found = gap_questions(engine, START, END)
        assert len(found) == 9 and all(q.at.tzinfo is not None for q in found)
        assert "电动车上牌在哪个窗口" not in {q.question for q in found}
