"""Risk signals: the score's cues, over the real 2019 messages with the real taxonomy and department table."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedding import Embedder
from monitor.classify import CategoryClassifier, Classifier, ClassifySettings, Departments
from monitor.exports import read_rows
from monitor.hotspots import HotIssue, IssueMessage
from monitor.messages import Message, row_to_message
from monitor.risks import CUES, RiskSettings, RiskSignals, find_risks, risk_level, risk_score

from ..conftest import shared_file

ROOT = Path(__file__).resolve().parents[2]
YEAR = (datetime(2010, 1, 1), datetime(2030, 1, 1))  # the export: 2017 to 2020


@pytest.fixture(scope="module")
def real_messages() -> list[Message]:
    _, rows = read_rows(shared_file("tipdm", "messages_2019.xlsx"))
    return [m for number, row in rows if (m := row_to_message("real", row, number)[0]) is not None]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The hotline's classifier on TF-IDF features (no model: the risks read no vectors here)."""
    settings = ClassifySettings(
        taxonomy=shared_file("tipdm", "taxonomy.xlsx"),
        training=shared_file("tipdm", "messages_labelled_sample.xlsx"),
        departments=ROOT / "monitor" / "departments.yml",
        features="tfidf",
    )
    return Classifier.from_settings(settings)


@pytest.fixture(scope="module")
def signals(real_messages: list[Message], classifier: Classifier) -> RiskSignals:
    return find_risks(real_messages, None, *YEAR, classifier=classifier)


@pytest.mark.parametrize(
    ("text", "level", "cues"),
    [
        ("A3区某路段路灯何时安装", "低", set()),
        ("投诉A7县某小区物业乱收费", "低", {"complaint"}),
        ("举报并投诉某公司违规排污，物业推诿不作为", "中", {"report", "complaint", "anger"}),
        ("业主集体维权，已联系电视台曝光", "高", {"collective", "petition", "media"}),
        ("再不退款我就从楼顶跳楼", "高", {"threat"}),
        ("小区电梯困人，老人受伤", "中", {"harm"}),
    ],
)
def test_the_score_adds_up_its_cue_groups(text: str, level: str, cues: set[str]) -> None:
    score = risk_score(text)
    assert set(score.cues) == cues and risk_level(score) == level
    expected = 1 - np.prod([1 - CUES[c][0] for c in cues]) if cues else 0.0
    assert score.score == pytest.approx(expected, abs=1e-3)


def test_attention_raises_the_score_but_never_past_one() -> None:
    quiet, watched = risk_score("投诉物业乱收费"), risk_score("投诉物业乱收费", likes=2000, dislikes=40)
    assert watched.score > quiet.score and watched.cues == quiet.cues
    assert risk_score("集体 维权 曝光 跳楼 爆炸 举报 投诉 欺诈 隐患", 10**6, 10**6).score <= 1


def test_real_year_lists_the_urgent_messages_first_with_their_words(
    signals: RiskSignals, real_messages: list[Message]
) -> None:
    by_id = {m.external_id: m for m in real_messages}
    assert signals.total == len(real_messages) == 4326
    assert sum(signals.levels.values()) == signals.total and signals.levels["高"] >= len(signals.messages) // 2
    assert len(signals.messages) == RiskSettings().top
    assert [m.level for m in signals.messages] == sorted((m.level for m in signals.messages), key="高中".index)
    for listed in signals.messages:
        text = by_id[listed.message_id].text
        assert listed.words and all(word in text for word in listed.words)
        assert listed.category and listed.department
    # a threat of suicide is 高 whatever else the message says
    threats = [m for m in real_messages if risk_score(m.text).threat]
    assert threats and all(risk_level(risk_score(m.text, m.likes, m.dislikes)) == "高" for m in threats)


def test_volumes_cover_every_message_by_category_department_and_request_type(signals: RiskSignals) -> None:
    departments = set(Departments.load(ROOT / "monitor" / "departments.yml").table.values())
    for volumes in (signals.by_category, signals.by_department, signals.by_request_type):
        assert sum(v.count for v in volumes) == signals.total
        assert sum(v.negative for v in volumes) == signals.negative
        assert [v.count for v in volumes] == sorted((v.count for v in volumes), reverse=True)
    assert {v.name for v in signals.by_department} <= departments
    assert len(signals.by_category) >= 5 and "城乡建设" in {v.name for v in signals.by_category}
    assert {v.name for v in signals.by_request_type} >= {"投诉", "咨询"}
    entry = signals.to_json()
    assert {"messages", "issues", "by_category", "by_department", "by_request_type", "levels"} <= set(entry)


def test_only_the_period_counts(real_messages: list[Message]) -> None:
    december = find_risks(real_messages, None, datetime(2019, 12, 1), datetime(2020, 1, 1))
    assert december.total == sum(1 for m in real_messages if datetime(2019, 12, 1) <= m.at < datetime(2020, 1, 1))
    assert all(m.at >= datetime(2019, 12, 1) for m in december.messages)
    assert {v.name for v in december.by_category} == {"未分类"}  # no classifier given


def issue_of(titles: list[str]) -> tuple[HotIssue, list[Message]]:
    start = datetime(2019, 6, 1)
    messages = [Message("t", f"m{i}", f"U{i}", start + timedelta(days=i), title, "") for i, title in enumerate(titles)]
    rows = tuple(IssueMessage("i1", m.external_id, m.at, m.title) for m in messages)
    issue = HotIssue(1, "i1", 50.0, messages[0].at, messages[-1].at, "丽发新城", titles[0], rows, len(titles), 0, 0)
    return issue, messages


def test_an_issue_whose_later_messages_turn_angry_is_flagged_and_a_steady_one_is_not() -> None:
    calm = ["丽发新城搅拌站何时搬迁", "丽发新城搅拌站噪音", "丽发新城搅拌站粉尘"]
    angry = ["投诉丽发新城搅拌站，部门推诿", "业主集体维权：丽发新城搅拌站", "强烈不满丽发新城搅拌站"]
    worse, messages = issue_of(calm + angry)
    steady, more = issue_of(["投诉丽发新城搅拌站"] * 6)
    found = find_risks(messages, None, datetime(2019, 6, 1), datetime(2019, 7, 1), issues=[worse])
    [trend] = found.issues
    assert (trend.issue_id, trend.earlier_share, trend.later_share, trend.later_negative) == ("i1", 0.0, 1.0, 3)
    assert find_risks(more, None, datetime(2019, 6, 1), datetime(2019, 7, 1), issues=[steady]).issues == ()


def test_bad_settings_and_a_hybrid_model_without_vectors_are_refused(
    real_messages: list[Message], classifier: Classifier, embedder: Embedder
) -> None:
    with pytest.raises(ValueError):
        RiskSettings(medium=0.9, high=0.8)
    hybrid = Classifier(classifier.departments, classifier.taxonomy, CategoryClassifier(embedder))
    with pytest.raises(ValueError, match="vectors"):  # it would have to embed every message again
        find_risks(real_messages[:5], None, *YEAR, classifier=hybrid)
