"""The knowledge base end to end: retrieval, validity filters, updates, script folding, answers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge.base import KnowledgeBase
from knowledge.document import Document, Kind, Validity
from knowledge.embedding import Embedder
from knowledge.errors import DocumentNotFound, InvalidQuery
from knowledge.retrieval import Filters

from .samples import LOAN_NEW, MEDICAL


def test_search_returns_passage_with_both_scores_and_citation(kb: KnowledgeBase) -> None:
    top = kb.search("城乡居民医保个人每年交多少钱")[0]
    assert top.doc_id == "medical"
    assert top.dense_score is not None and top.bm25_score is not None
    assert top.citation.doc_number == "青政办发〔2024〕3号"
    assert top.citation.validity == "现行有效"
    assert top.chunk.text.startswith("一、参保缴费\n城乡居民医保个人缴费标准为每人每年380元。")


def test_repealed_policy_is_excluded_by_default_and_flagged_on_request(kb: KnowledgeBase) -> None:
    default_ids = {p.doc_id for p in kb.search("创业担保贷款最高额度", top_k=10)}
    assert "loan-2019" not in default_ids and "loan-2023" in default_ids
    with_retired = kb.search("创业担保贷款最高额度", top_k=10, filters=Filters(include_retired=True))
    old = next(p for p in with_retired if p.doc_id == "loan-2019")
    assert old.citation.validity == "已废止" and old.citation.replaced_by == "loan-2023"


def test_retire_takes_a_policy_out_of_default_results(kb: KnowledgeBase) -> None:
    kb.retire("medical", Validity.EXPIRED, note="到期")
    assert all(p.doc_id != "medical" for p in kb.search("城乡居民医保缴费标准", top_k=10))
    assert kb.get("medical").validity is Validity.EXPIRED
    assert [v.action for v in kb.history("medical")] == ["created", "retired"]


def test_update_replaces_the_old_text_in_results(kb: KnowledgeBase) -> None:
    changed = replace(MEDICAL, body=MEDICAL.body.replace("380元", "400元"))
    assert kb.upsert(changed, note="2025年标准").action == "updated"
    texts = " ".join(p.chunk.text for p in kb.search("城乡居民医保个人缴费标准", top_k=10))
    assert "400元" in texts and "380元" not in texts
    assert [v.document.body.count("380元") for v in kb.history("medical")] == [1, 0]


def test_ingesting_the_same_document_twice_changes_nothing(kb: KnowledgeBase) -> None:
    generation = kb.generation
    assert kb.upsert(LOAN_NEW).action == "unchanged"
    assert kb.generation == generation


def test_simplified_question_finds_traditional_faq_and_keeps_original_text(kb: KnowledgeBase) -> None:
    top = kb.search("怎么申请低收入户资格", filters=Filters(kinds=(Kind.FAQ,)))[0]
    assert top.doc_id == "tpe-1"
    assert "戶籍所在地區公所" in top.chunk.text  # shown as written


def test_kind_filter_restricts_results(kb: KnowledgeBase) -> None:
    passages = kb.search("创业担保贷款", top_k=10, filters=Filters(kinds=(Kind.INTERPRETATION,)))
    assert passages and {p.doc_id for p in passages} == {"loan-faq"}


def test_answer_quotes_the_sentence_and_cites_the_current_policy(kb: KnowledgeBase) -> None:
    answer = kb.answer("创业担保贷款最多能贷多少？")
    assert answer.answered
    assert "30万元" in answer.text and "15万元" not in answer.text
    assert answer.citation is not None and answer.citation.doc_number == "青政发〔2023〕12号"


def test_answer_from_question_and_answer_interpretation(kb: KnowledgeBase) -> None:
    answer = kb.answer("创业担保贷款的利息由谁承担")
    assert answer.answered and "全额贴息" in answer.text


def test_unrelated_question_gets_an_honest_no_answer(kb: KnowledgeBase) -> None:
    answer = kb.answer("火星上的天气怎么样")
    assert not answer.answered and answer.text == ""


def test_empty_and_oversized_questions_are_rejected(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidQuery):
        kb.search("   ")
    with pytest.raises(InvalidQuery):
        kb.search("问" * 5000)


def test_retire_with_unknown_replacement_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(DocumentNotFound):
        kb.retire("medical", Validity.REPEALED, replaced_by="no-such-doc")
    assert kb.get("medical").validity is Validity.CURRENT


def test_another_instance_sees_changes_after_refresh(kb: KnowledgeBase, embedder: Embedder) -> None:
    other = KnowledgeBase.open(kb.settings, embedder)
    kb.retire("medical", Validity.REPEALED)
    other.refresh()
    assert all(p.doc_id != "medical" for p in other.search("城乡居民医保缴费", top_k=10))
    other.close()


def test_question_of_only_function_words_gets_no_answer(kb: KnowledgeBase) -> None:
    answer = kb.answer("的了是在我有")
    assert not answer.answered and answer.confidence == 0.0


def test_a_question_asking_for_materials_gets_the_list_not_a_passing_mention(kb: KnowledgeBase) -> None:
    # the interpretation mentions 材料 in passing; the policy introduces the list with "提交以下材料："
    kb.upsert(
        replace(
            LOAN_NEW,
            body=LOAN_NEW.body
            + "\n三、申请程序\n申请人到县就业服务中心提出申请，并提交以下材料："
            "1. 居民身份证；2. 营业执照；3. 创业计划书。",
        )
    )
    kb.upsert(
        Document(
            "loan-qa", "创业担保贷款问答", "问：多久能放款？\n答：材料齐全的，15个工作日内放款。", kind=Kind.FAQ
        )
    )
    answer = kb.answer("那需要什么材料？", Filters(doc_ids=("loan-2023", "loan-qa")))
    # either statement of the documents to bring (二、申请材料 or the list after "提交以下材料："), never the
    # Q&A pair's "材料齐全的，15个工作日内放款"
    assert answer.answered and "营业执照" in answer.text and "创业计划书" in answer.text, answer.text
    assert "放款" not in answer.text, answer.text
