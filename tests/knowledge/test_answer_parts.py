"""Two questions in one message: split into sub-questions of different kinds, each answered."""

from __future__ import annotations

import pytest

from knowledge.answer_parts import answer_parts, answers_both, split_question
from knowledge.document import Answer
from knowledge.qtypes import QType


def test_two_kinds_of_question_split_and_the_second_borrows_the_subject() -> None:
    parts = split_question("创业贷款最多贷多少 要啥条件")
    assert [p.typed for p in parts] == ["创业贷款最多贷多少", "要啥条件"]
    assert [p.qtype for p in parts] == [QType.AMOUNT, QType.ELIGIBILITY]
    assert parts[1].question == "创业贷款要啥条件"


@pytest.mark.parametrize(
    "question",
    [
        "民政局在哪 电话多少",  # one kind (place) asked twice: one answer holds both
        "身份证丢了 过两天就要坐高铁咋办",  # the first part asks nothing on its own
        "低保要带啥材料",
    ],
)
def test_one_question_stays_whole(question: str) -> None:
    parts = split_question(question)
    assert len(parts) == 1 and parts[0].question == question


def test_both_parts_are_answered_and_a_repeated_quote_is_no_second_answer() -> None:
    quotes = {"租房能取公积金不": "可以提取。", "租房公积金一年能取多少": "每人每年最高提取12000元"}
    parts = answer_parts("租房能取公积金不 一年能取多少", lambda q: Answer(q, True, quotes[q], 0.8))
    assert [a.text for _, a in parts] == ["可以提取。", "每人每年最高提取12000元"]
    assert answers_both(parts)
    same = answer_parts("租房能取公积金不 一年能取多少", lambda q: Answer(q, True, "可以提取。", 0.8))
    assert not answers_both(same)
