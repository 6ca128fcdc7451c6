"""Questions naming a retired or amended rule: the old document recognised, the rules in force answering."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge.base import KnowledgeBase
from knowledge.document import Validity
from knowledge.supersede import Reason, check_question, find_supersession, in_force

from .samples import LOAN_NEW, LOAN_OLD, MEDICAL

LOAN_2019 = "qh-policy-entrepreneurship-loan-2019"
LOAN_2023 = "qh-policy-entrepreneurship-loan-2023"
ELDERLY_2020 = "qh-policy-elderly-care-subsidy-2020"
ELDERLY_2024 = "qh-policy-elderly-care-subsidy-2024"
HOUSING_2022 = "qh-policy-affordable-rental-housing-2022"
HOUSING_2025 = "qh-policy-affordable-rental-housing-amend-2025"
COVID_2022 = "qh-notice-covid-smb-relief-2022"


@pytest.mark.parametrize(
    ("question", "old", "current", "reason", "current_says"),
    [
        # the case: 15万 is the retired 2019 limit; the 2023 rules say 30万
        ("15万的创业贷款政策还有效吗", LOAN_2019, LOAN_2023, Reason.FIGURE, "30万元"),
        ("创业担保贷款个人最高还是15万吗", LOAN_2019, LOAN_2023, Reason.FIGURE, "30万元"),
        ("青人社发2019 12号文件还执行吗", LOAN_2019, LOAN_2023, Reason.DOC_NUMBER, "废止"),
        ("2019年那个创业贷款办法现在还管用不", LOAN_2019, LOAN_2023, Reason.YEAR, "废止"),
        ("90岁老人高龄补贴是不是一个月100块", ELDERLY_2020, ELDERLY_2024, Reason.FIGURE, "150元"),
        ("保租房租金是不是市场价的九成", HOUSING_2022, HOUSING_2025, Reason.FIGURE, "85%"),
        ("保租房社保要交满12个月吗", HOUSING_2022, HOUSING_2025, Reason.FIGURE, "6个月"),
    ],
)
def test_an_old_figure_number_or_year_names_the_old_rules_and_the_current_ones_answer(
    sample_kb: KnowledgeBase, question: str, old: str, current: str, reason: Reason, current_says: str
) -> None:
    found, answer = check_question(sample_kb, question)
    assert found is not None, question
    assert (found.old.id, found.current and found.current.id, found.reason) == (old, current, reason)
    assert answer is not None and answer.answered
    assert answer.passage is not None and answer.passage.citation.validity == Validity.CURRENT.value
    assert current_says in answer.text


def test_an_expired_notice_without_replacement_is_recognised_with_nothing_in_force(sample_kb: KnowledgeBase) -> None:
    found, answer = check_question(sample_kb, "疫情那会儿小微企业房租减免现在还有不")
    assert found is not None and found.old.id == COVID_2022 and found.current is None
    assert found.reason is Reason.RANK
    assert answer is not None and answer.passage is not None and answer.passage.doc_id == COVID_2022


def test_a_measure_of_the_retired_rules_is_answered_by_what_the_rules_in_force_say_of_it(
    sample_kb: KnowledgeBase,
) -> None:
    # "还是…不" about one measure (full interest subsidy), not the document: the repeal sentence says nothing of it
    found, answer = check_question(sample_kb, "创业贷款还是全额贴息不")
    assert found is not None and (found.old.id, found.reason) == (LOAN_2019, Reason.RANK)
    assert answer is not None and answer.answered and "三分之二" in answer.text, answer
    assert answer.passage is not None and answer.passage.citation.validity == Validity.CURRENT.value


def test_an_amended_article_is_answered_from_its_amendment(sample_kb: KnowledgeBase) -> None:
    question = "保租房一次最多签几年"
    plain = sample_kb.answer(question)
    found, answer = check_question(sample_kb, question, plain)
    assert found is not None and (found.old.id, found.reason) == (HOUSING_2022, Reason.AMENDED)
    assert answer is not None and answer.passage is not None and answer.passage.doc_id == HOUSING_2025
    assert "5年" in answer.text


@pytest.mark.parametrize(
    "question",
    ["自己创业能贷多少钱", "失业金一个月能领多少钱阿", "老人80岁了高龄补贴一个月多少钱", "申请保租房要啥材料"],
)
def test_questions_about_the_rules_in_force_are_left_alone(sample_kb: KnowledgeBase, question: str) -> None:
    found, answer = check_question(sample_kb, question, sample_kb.answer(question))
    assert found is None and answer is None


def test_find_supersession_reaches_the_old_version_of_a_retrieved_document(kb: KnowledgeBase) -> None:
    documents = kb.documents()
    current_only = kb.search("创业担保贷款最高额度15万元", 5)  # retired documents excluded
    assert LOAN_OLD.id not in {p.doc_id for p in current_only}
    found = find_supersession("创业担保贷款最高额度15万元", current_only, documents)
    assert found is not None and (found.old.id, found.current, found.evidence) == (LOAN_OLD.id, LOAN_NEW, "15万元")
    assert find_supersession("创业担保贷款最高额度30万元", current_only, documents) is None
    assert find_supersession("15万元", [], documents) is None


def test_in_force_follows_replacements_and_survives_a_cycle() -> None:
    middle = replace(LOAN_NEW, id="loan-2021", validity=Validity.REPEALED, replaced_by="loan-2023")
    first = replace(LOAN_OLD, replaced_by="loan-2021")
    documents = {d.id: d for d in (first, middle, LOAN_NEW)}
    assert in_force(first, documents) is LOAN_NEW
    looping = {"a": replace(LOAN_OLD, id="a", replaced_by="b"), "b": replace(LOAN_OLD, id="b", replaced_by="a")}
    assert in_force(looping["a"], looping) is None
    assert in_force(MEDICAL, {MEDICAL.id: MEDICAL}) is None
