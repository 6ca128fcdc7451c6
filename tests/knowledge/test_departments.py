"""Which department a citizen is told to call, for a document and for an answer."""

from __future__ import annotations

from knowledge.departments import closest_department, department_of, responsible_department
from knowledge.document import Answer, Chunk, Citation, Document, Kind, Passage

SUBSIDY = Document(
    "subsidy", "甲县种粮补贴办法", "正文。", kind=Kind.POLICY, issuer="甲县人民政府", department="县农业农村局"
)
NOTICE = Document("notice", "甲县停水通知", "正文。", kind=Kind.NOTICE, issuer="甲县水务公司")
DOCS = {doc.id: doc for doc in (SUBSIDY, NOTICE)}


def _answer(question: str, *docs: Document) -> Answer:
    passages = tuple(
        Passage(Chunk(Chunk.make_id(doc.id, 0), doc.id, 0, "正文。", doc.title), Citation.of(doc), 1.0 - n / 10)
        for n, doc in enumerate(docs)
    )
    return Answer(question, False, "", 0.0, None, passages)


def test_the_named_department_is_responsible_before_the_issuer() -> None:
    assert responsible_department(SUBSIDY) == "县农业农村局"
    assert responsible_department(NOTICE) == "甲县水务公司"


def test_an_unknown_or_empty_document_id_names_no_department() -> None:
    assert department_of(DOCS, "subsidy") == "县农业农村局"
    assert department_of(DOCS, "missing") == ""
    assert department_of(DOCS, "") == ""


def test_the_closest_department_skips_a_better_ranked_document_the_question_does_not_name() -> None:
    assert closest_department(DOCS, _answer("种粮补贴什么时候发", NOTICE, SUBSIDY)) == "县农业农村局"


def test_no_department_when_no_retrieved_document_shares_a_word_with_the_question() -> None:
    assert closest_department(DOCS, _answer("护照怎么办理", NOTICE, SUBSIDY)) == ""
    assert closest_department(DOCS, None) == ""
