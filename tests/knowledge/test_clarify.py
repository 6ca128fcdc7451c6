"""The clarification rule, on the sample knowledge base and on hand-made passages."""

from __future__ import annotations

import pytest

from knowledge.base import KnowledgeBase
from knowledge.clarify import ambiguous_documents, distinguishing_words
from knowledge.document import Chunk, Citation, Document, Kind, Passage, Validity

GRADUATE = "qh-policy-graduate-startup-subsidy-2024"
RURAL = "qh-policy-rural-return-startup-subsidy-2024"

# every phrasing of the vague question, measured at 0.90–0.98 between the two subsidies
AMBIGUOUS = ["创业补贴怎么申请", "创业补贴如何申请", "怎么申请创业补贴", "我想申请创业补贴", "申请创业补贴要什么材料"]
# the runner-up is a policy too but far behind, or the question names one programme, or the close
# documents are a policy and a guide/FAQ on the same topic
CLEAR = [
    "个人创业担保贷款最高能贷多少",
    "创业担保贷款怎么申请",
    "大学生创业补贴怎么申请",
    "高校毕业生创业补贴",
    "大学生创业补贴多少钱",
    "返乡创业补贴怎么申请",
    "民政局在哪里",
    "企业开办要多久",
    "住院报销比例是多少",
    "保障性租赁住房租金多少",
    "高龄津贴多少钱",
]


def choices(kb: KnowledgeBase, question: str) -> list[str]:
    return [doc.id for doc in ambiguous_documents(question, kb.answer(question).passages, kb.documents())]


@pytest.mark.parametrize("question", AMBIGUOUS)
def test_vague_startup_subsidy_questions_offer_both_programmes(sample_kb: KnowledgeBase, question: str) -> None:
    assert set(choices(sample_kb, question)) == {GRADUATE, RURAL}


@pytest.mark.parametrize("question", CLEAR)
def test_clear_questions_are_not_clarified(sample_kb: KnowledgeBase, question: str) -> None:
    assert choices(sample_kb, question) == []


def _doc(doc_id: str, title: str, kind: Kind = Kind.POLICY, **fields: object) -> Document:
    return Document(id=doc_id, title=title, body="正文。", kind=kind, **fields)  # type: ignore[arg-type]


def _passage(doc: Document, score: float) -> Passage:
    chunk = Chunk(Chunk.make_id(doc.id, 0), doc.id, 0, "正文。", doc.title)
    return Passage(chunk, Citation.of(doc), score)


DOCS = {
    d.id: d
    for d in (
        _doc("a", "甲县种粮补贴办法", tags=("补贴",)),
        _doc("a-jd", "《甲县种粮补贴办法》政策解读", Kind.INTERPRETATION, interprets="a"),
        _doc("b", "甲县养殖补贴办法", tags=("补贴",)),
        _doc("b-old", "甲县养殖补贴办法（试行）", validity=Validity.AMENDED, replaced_by="b"),
        _doc("guide", "养殖补贴办事指南", Kind.SERVICE_GUIDE),
    )
}


def test_an_interpretation_does_not_compete_with_its_own_policy() -> None:
    passages = [_passage(DOCS["a"], 1.0), _passage(DOCS["a-jd"], 0.99), _passage(DOCS["b"], 0.5)]
    assert ambiguous_documents("补贴怎么领", passages, DOCS) == []


def test_close_policies_are_offered_best_first_and_amendments_count_once() -> None:
    passages = [_passage(DOCS["b-old"], 1.0), _passage(DOCS["a-jd"], 0.9), _passage(DOCS["b"], 0.8)]
    assert [d.id for d in ambiguous_documents("补贴怎么领", passages, DOCS)] == ["b", "a"]


def test_a_policy_next_to_a_guide_on_its_topic_is_not_a_choice() -> None:
    passages = [_passage(DOCS["b"], 1.0), _passage(DOCS["guide"], 0.98)]
    assert ambiguous_documents("补贴怎么领", passages, DOCS) == []


def test_a_word_in_only_one_title_tells_which_policy_and_is_not_clarified() -> None:
    assert "种粮" in distinguishing_words("种粮补贴怎么领", [DOCS["a"], DOCS["b"]])
    passages = [_passage(DOCS["a"], 1.0), _passage(DOCS["b"], 0.95)]
    assert ambiguous_documents("种粮补贴怎么领", passages, DOCS) == []


def test_two_reports_of_one_event_are_not_offered_as_a_choice() -> None:
    reports = {
        d.id: d
        for d in (
            _doc("r1", "重庆智能化疫情排查信息系统上线"),
            _doc("r2", "重庆:上线智能化信息系统助12万网格员便捷排查疫情"),
            _doc("s1", "山东省人民政府"),
            _doc("s2", "山东省人民政府"),
        )
    }
    # every word of the first title is in the second: nothing tells the buttons apart
    passages = [_passage(reports["r1"], 1.0), _passage(reports["r2"], 0.97)]
    assert ambiguous_documents("重庆疫情排查信息系统何时上线", passages, reports) == []
    passages = [_passage(reports["s1"], 1.0), _passage(reports["s2"], 0.99)]
    assert ambiguous_documents("山东省人民政府怎么保障农资运输", passages, reports) == []


def test_only_a_question_naming_nothing_beyond_the_shared_topic_is_clarified() -> None:
    passages = [_passage(DOCS["a"], 1.0), _passage(DOCS["b"], 0.95)]
    assert [d.id for d in ambiguous_documents("补贴申请条件", passages, DOCS)] == ["a", "b"]  # vague
    # 补贴 is shared, but 农机 / 报废 / 更新 are in neither title: the question is specific, not vague
    assert ambiguous_documents("农机报废更新补贴怎么领", passages, DOCS) == []
