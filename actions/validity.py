"""Whether the current document is still in force: its validity, dates and replacement."""

from __future__ import annotations

from collections.abc import Mapping

from knowledge.clarify import label, naming_words, question_words, subject_id
from knowledge.document import Answer, Citation, Document, Kind
from knowledge.reader import KnowledgeReader
from knowledge.retrieval import Filters
from knowledge.supersede import Reason, check_question

from . import replies
from .answering import KnowledgeAction, superseded_reply
from .conversation import Turn
from .payload import CitationRole, Reply, ReplyKind, button, cite, make_payload, slots

SEARCHED_PASSAGES = 8
# words that ask about validity itself; a question made only of these names no document
VALIDITY_WORDS = frozenset(
    "文件 政策 规定 有效 有效期 还有 失效 废止 作废 过期 现行 执行 适用 管用 还能 能用 "
    "是否 这个 那个 最新 版本 修改 修订 现在 目前 还 办法 措施 通知 决定 细则 意见 方案 条例 实施".split()
)


def identity(doc: Document) -> str:
    """Title, tags, 文号 and year: what a citizen may use to say which version they mean."""
    year = doc.published_date or doc.written_date
    return " ".join((label(doc), doc.doc_number, str(year.year) if year else ""))


def candidate_documents(answer: Answer, docs: Mapping[str, Document]) -> list[Document]:
    """Documents of the answer's passages, best first; a 解读 stands for its policy, but a retired or
    amended version stays itself, since its validity is the question."""
    ids: dict[str, None] = {}
    for passage in answer.passages:
        doc = docs.get(passage.doc_id)
        if doc is not None:
            ids.setdefault(subject_id(doc.id, docs) if doc.kind is Kind.INTERPRETATION else doc.id, None)
    return [docs[i] for i in ids if i in docs]


def named_document(kb: KnowledgeReader, question: str) -> tuple[Document, float] | None:
    """The document a validity question names, retired ones included, preferring the version it names."""
    answer = kb.answer(question, Filters(include_retired=True), top_k=SEARCHED_PASSAGES)
    candidates = candidate_documents(answer, kb.documents()) if answer.answered else []
    if not candidates:
        return None
    words = question_words(question)
    for doc in candidates:
        # "2019年的…办法" names the 2019 version even when the current one ranks first
        if any(word in identity(doc) and not all(word in identity(other) for other in candidates) for word in words):
            return doc, answer.confidence
    return candidates[0], answer.confidence


def names_document(kb: KnowledgeReader, question: str) -> bool:
    """Whether the question names some document by words of its title, tags, 文号 or year."""
    return bool(naming_words(question, (identity(doc) for doc in kb.documents().values()), VALIDITY_WORDS))


def document_asked_about(kb: KnowledgeReader, turn: Turn) -> tuple[Document | None, float]:
    """The document the question names when it names one the current document is not, else the current one;
    with no current document, the one whose text answers the question ("水电气欠费不停供的政策还执行不" names no
    title word, but only the 2022 relief notice speaks of 欠费不停供)."""
    docs = kb.documents()
    current = docs.get(turn.current_doc_id)
    words = naming_words(turn.text, (identity(doc) for doc in docs.values()), VALIDITY_WORDS)
    if not words and current is None:
        # no title word, no document in the conversation: the words of a measure some document speaks of
        words = naming_words(turn.text, (doc.body for doc in docs.values()), VALIDITY_WORDS)
    named = named_document(kb, turn.text) if words else None
    if named is not None and (
        current is None or any(w in identity(named[0]) and w not in identity(current) for w in words)
    ):
        return named
    return (current, 1.0) if current is not None else (None, 0.0)


def reply_on_validity(kb: KnowledgeReader, turn: Turn) -> Reply:
    """The document's state, dates and replacement, with a button to the current rules."""
    # "15万的创业贷款政策还有效吗": the old limit names the 2019 rules, which the current ones replaced
    supersession, current = check_question(kb, turn.text)
    # a bare "这个还有效吗" is about the current document; only a question naming something may change it
    if (
        supersession is not None
        and current is not None
        and (supersession.reason is not Reason.RANK or names_document(kb, turn.text))
    ):
        return superseded_reply(kb, supersession, current, turn, turn.text)
    doc, confidence = document_asked_about(kb, turn)
    if doc is None:
        return Reply(replies.no_current_document_text(), make_payload(ReplyKind.VALIDITY, turn.intent))
    docs = kb.documents()
    replacement = docs.get(doc.replaced_by) if doc.replaced_by else None
    citations = [cite(Citation.of(doc), CitationRole.SUBJECT)]
    if replacement is not None:
        citations.append(cite(Citation.of(replacement), CitationRole.REPLACEMENT))
    buttons = [button("查看现行规定", "choose_document", doc_id=replacement.id)] if replacement else []
    payload = make_payload(
        ReplyKind.VALIDITY, turn.intent, answered=True, confidence=confidence, citations=citations, buttons=buttons
    )
    return Reply(
        replies.validity_text(doc, replacement), payload, slots(current_doc_id=doc.id, current_topic=doc.title)
    )


class ActionAnswerValidity(KnowledgeAction):
    def name(self) -> str:
        return "action_answer_validity"

    def reply(self, kb: KnowledgeReader, turn: Turn) -> Reply:
        return reply_on_validity(kb, turn)
