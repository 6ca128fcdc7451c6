"""When a question fits several policies equally well, ask which one instead of guessing.

The rule, chosen on the sample knowledge base (see tests/knowledge/test_clarify.py):

1. Group the retrieved passages by *subject*: an interpretation counts as the policy it explains, an
   amended policy as its amendment, so a policy and its own 解读 never compete with each other.
2. If the best subject is a policy, the policies whose best fused score is at least ``CLOSE_RATIO`` of
   it are the candidates (a service guide or FAQ near the top is not a choice to offer).
3. Clarify only when there are two or more candidates, the question names something all of them carry
   in their title or tags ("创业补贴" is in both subsidies' titles), and nothing that only some carry
   ("大学生创业补贴" already names one of the two).
4. ... and only when each candidate's title names something the others' do not (大学生 / 返乡入乡), so
   a citizen can tell the buttons apart. Two reports of one event ("重庆智能化疫情排查信息系统上线" and
   "重庆:上线智能化信息系统助12万网格员便捷排查疫情") or two documents titled "山东省人民政府" answer the
   same question; asking which one is meant would only delay the answer.
5. ... and only when the question names nothing beyond what the candidates share: every word of it
   (question words such as 怎么 / 多少 and aspects such as 申请 / 条件 aside) is in every candidate's
   title or tags. "创业补贴申请条件" is vague (创业, 补贴: shared); "农机报废更新补贴怎么领" next to a
   种粮 and a 养殖 subsidy is not; "防护服企业的复工率如何" names more than two reports on resuming
   work have in common, and is answered from the better one.
   On the shared ncp dev questions steps 4 and 5 leave none of 20 clarifications.

Step 3 carries the decision; the ratio only bounds how far down to look. On the sample, every vague
"创业补贴" phrasing clarifies and every specific question (the loan limit, "大学生…", "高校毕业生…", a
department's address) does not, with the same outcome for any ratio from 0.80 to 0.90 — which matters
because the fused scores shift whenever retrieval is retuned (the runner-up of "创业补贴怎么申请" moved
from 0.98 to 0.96 of the leader, and unrelated policy pairs from 0.76 up to 0.85, in one retuning).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from knowledge.document import Document, Kind, Passage, Validity
from knowledge.text import normalize, words

CLOSE_RATIO = 0.85
MAX_CHOICES = 3
MIN_WORD_CHARS = 2  # single characters (想, 去, 钱) name nothing
# words that ask, or name an aspect every policy has, rather than naming a policy: they say nothing
# about which document is meant
QUESTION_WORDS = frozenset(
    "怎么 怎样 怎么样 如何 什么 哪些 哪个 哪里 多少 多久 是否 可以 能否 需要 有没有 是不是 请问 想问 一下 具体 "
    "申请 办理 条件 材料 标准 流程 手续 领取 规定 政策 要求 时间 期限".split()
)


def subject_id(doc_id: str, documents: Mapping[str, Document]) -> str:
    """The document a passage is really about: a 解读's policy, an amended policy's amendment."""
    doc = documents.get(doc_id)
    if doc is None:
        return doc_id
    if doc.kind is Kind.INTERPRETATION and doc.interprets in documents:
        return doc.interprets
    if doc.validity is Validity.AMENDED and doc.replaced_by in documents:
        return doc.replaced_by
    return doc_id


def label(doc: Document) -> str:
    """What names a document for a citizen: its title and tags, normalised for matching."""
    return normalize(" ".join((doc.title, *doc.tags))).lower()


def question_words(question: str) -> set[str]:
    """The words of a question long enough to name something (two characters or more)."""
    return {word for word in words(question) if len(word) >= MIN_WORD_CHARS}


def naming_words(question: str, texts: Iterable[str], generic: frozenset[str] = frozenset()) -> set[str]:
    """Words of the question, other than ``generic`` ones, that occur in one of the texts (labels, names).

    Matching against what the knowledge base calls things also drops the noise of the BM25 tokens
    (character bigrams across word boundaries such as 个还 in 这个还有效吗)."""
    texts = list(texts)
    return {word for word in question_words(question) - generic if any(word in text for text in texts)}


def distinguishing_words(question: str, docs: Sequence[Document]) -> set[str]:
    """Words of the question found in the title or tags of some of the documents but not all."""
    labels = [label(doc) for doc in docs]
    return {word for word in question_words(question) if 0 < sum(word in text for text in labels) < len(labels)}


def shared_words(question: str, docs: Sequence[Document]) -> set[str]:
    """Words of the question found in the title or tags of every one of the documents."""
    labels = [label(doc) for doc in docs]
    return {word for word in question_words(question) if all(word in text for text in labels)}


def ambiguous_documents(
    question: str, passages: Iterable[Passage], documents: Mapping[str, Document], ratio: float = CLOSE_RATIO
) -> list[Document]:
    """The policies to offer as choices, best first; empty when the question is not ambiguous."""
    best: dict[str, float] = {}
    for passage in passages:
        best.setdefault(subject_id(passage.doc_id, documents), passage.score)
    ranked = [(documents[i], score) for i, score in best.items() if i in documents]
    if len(ranked) < 2 or ranked[0][1] <= 0 or ranked[0][0].kind is not Kind.POLICY:
        return []
    floor = ratio * ranked[0][1]
    close = [doc for doc, score in ranked if score >= floor and doc.kind is Kind.POLICY][:MAX_CHOICES]
    if len(close) < 2 or distinguishing_words(question, close) or not shared_words(question, close):
        return []
    if not all(own_words(doc, close) for doc in close) or not vague(question, close):
        return []
    return close


def vague(question: str, docs: Sequence[Document]) -> bool:
    """Whether every word of the question (question words aside) is in every document's title or tags."""
    asked = question_words(question) - QUESTION_WORDS
    return bool(asked) and asked <= shared_words(question, docs)


def own_words(doc: Document, docs: Sequence[Document]) -> set[str]:
    """Words of a document's title and tags that no other of the documents carries: what tells it apart."""
    others = [label(other) for other in docs if other is not doc]
    return {word for word in question_words(label(doc)) if not any(word in text for text in others)}
