"""Questions that name a retired or amended rule: which old document they mean and what replaced it.

"15万的创业贷款政策还有效吗" names the 2019 loan rules by their old limit (15万元); "青人社发2019 12号还执行吗"
by their 文号; "2019年那个创业贷款办法" by their year. Answering such a question from the current rules
without saying so would let the citizen believe the old figure is still in force, and answering from
the old rules would present a 已废止 rule as current. ``find_supersession`` recognises the case;
``answer_superseded`` answers from the rules in force, so a reply can say "《…（2019年）》已废止，现行规定是
《…（2023年修订）》：…" with both citations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .document import Answer, Document, Passage, Validity
from .reader import KnowledgeReader
from .retrieval import Filters

SEARCHED_PASSAGES = 8
# an amendment changes a few articles; it answers instead of the amended text only when it covers the
# question nearly as well (else the article asked about is one it left unchanged)
AMENDMENT_CONFIDENCE = 0.9
MAX_CHAIN = 5  # replaced_by hops followed before giving up (a cycle in bad metadata must not hang)

# a figure with its unit as citizens and documents write it (the normaliser turns 15万 into 15万元,
# 100块 into 100元 and 九成 into 90%)
_FIGURE = re.compile(r"(?<![\d.])(?!(?:19|20)\d\d\s*年)\d+(?:\.\d+)?\s*(?:万元|元|%|个月|个工作日|日|天|年|周岁|倍|亩)")
_SENTENCE = re.compile(r"(?<=[。！？])|\n+")
_YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?:\s*年)?(?!\d)")
# words naming a rule as a whole: "…的政策还执行不" asks about the document, "还是全额贴息不" about what it says
_WHOLE_RULE = re.compile(r"政策|办法|文件|规定|通知|条例|细则|意见|措施|方案|文号")
_DOC_NUMBER_NOISE = re.compile(r"[\s〔〕\[\]()（）【】号第]")
# words asking whether a rule still applies; with them, a retired document ranked first is the subject
_STILL = re.compile(
    r"还有效|还管用|还执行|还适用|还能用|还算数|还在执行|现在还|还是|废止|失效|作废|过期|还有吗|还有没有"
)


class Reason(StrEnum):
    """What in the question points at the old document."""

    FIGURE = "figure"  # an amount, share or period only the old rules give (15万元, 90%, 12个月)
    DOC_NUMBER = "doc_number"  # its 文号
    YEAR = "year"  # its year, when the current rules are of another
    RANK = "rank"  # it matches best and the question asks whether it still applies
    AMENDED = "amended"  # an amended document answers best, and its amendment answers as well


@dataclass(frozen=True)
class Supersession:
    """A question about ``old`` (已废止 / 失效 / 已修改); ``current`` is what applies now (None: nothing does)."""

    old: Document
    current: Document | None
    reason: Reason
    evidence: str  # the figure, 文号 or year of the question that names the old document


def _compact(text: str) -> str:
    return _DOC_NUMBER_NOISE.sub("", text)


def _year(doc: Document) -> int | None:
    when = doc.published_date or doc.written_date or doc.effective_date
    return when.year if when else None


def in_force(doc: Document, documents: Mapping[str, Document]) -> Document | None:
    """The document that applies instead of ``doc``: its replacement, followed until one in force."""
    seen = {doc.id}
    current = documents.get(doc.replaced_by) if doc.replaced_by else None
    for _ in range(MAX_CHAIN):
        if current is None or current.id in seen:
            return None
        if current.validity is Validity.CURRENT:
            return current
        seen.add(current.id)
        current = documents.get(current.replaced_by) if current.replaced_by else None
    return None


def _predecessors(documents: Mapping[str, Document]) -> dict[str, list[Document]]:
    found: dict[str, list[Document]] = {}
    for doc in documents.values():
        if doc.replaced_by and (doc.validity.is_retired or doc.validity is Validity.AMENDED):
            found.setdefault(doc.replaced_by, []).append(doc)
    return found


def _candidates(passages: list[Passage], documents: Mapping[str, Document]) -> list[Document]:
    """Superseded documents the passages reach: retrieved themselves, or the old version of one retrieved."""
    earlier = _predecessors(documents)
    out: dict[str, Document] = {}
    for passage in passages:
        doc = documents.get(passage.doc_id)
        if doc is None:
            continue
        if doc.validity.is_retired or doc.validity is Validity.AMENDED:
            out.setdefault(doc.id, doc)
        policy = documents.get(doc.interprets) if doc.interprets else None  # a 解读 stands for its policy
        for target in (doc, policy):
            for old in earlier.get(target.id, []) if target is not None else []:
                out.setdefault(old.id, old)
    return list(out.values())


def _evidence(question: str, old: Document, current: Document | None) -> tuple[Reason, str] | None:
    """The figure, 文号 or year in the question that belongs to the old document and not to the current one."""
    compact = _compact(question)
    if old.doc_number and _compact(old.doc_number) in compact:
        return Reason.DOC_NUMBER, old.doc_number
    newer = current.body if current is not None else ""
    for match in _FIGURE.finditer(question):
        figure = match.group().replace(" ", "")
        if figure in old.body and figure not in newer:
            return Reason.FIGURE, figure
    old_year = _year(old)
    for match in _YEAR.finditer(question):
        year = int(match.group(1))
        if year == old_year and (current is None or _year(current) != year):
            return Reason.YEAR, f"{year}年"
    return None


def find_supersession(question: str, passages: list[Passage], documents: Mapping[str, Document]) -> Supersession | None:
    """Whether the question names a superseded document among those the passages (searched with retired
    documents included) reach, by a figure, 文号 or year of its own, or asks whether the retired document
    that ranks first still applies."""
    for old in _candidates(passages, documents):
        current = in_force(old, documents)
        found = _evidence(question, old, current)
        if found is not None:
            return Supersession(old, current, *found)
    top = documents.get(passages[0].doc_id) if passages else None
    if top is not None and top.validity.is_retired and _STILL.search(question):
        return Supersession(top, in_force(top, documents), Reason.RANK, "")
    return None


def _counterpart_query(old: Document, figure: str) -> str:
    """The old document's sentence giving the figure, without it: what the current rules say instead."""
    for sentence in _SENTENCE.split(old.body):
        if figure in sentence.replace(" ", ""):
            return sentence.replace(figure, " ").strip()
    return ""


def answer_superseded(kb: KnowledgeReader, question: str, supersession: Supersession) -> Answer:
    """The question answered from the rules in force (the current document and its 解读); without any,
    from the old document itself, which a reply must then flag as no longer applying.

    A question naming an old figure ("15万") is answered with the current rules' counterpart of the old
    sentence that gave it ("最高额度为15万元" → "最高额度为30万元"), not with whatever else matches.
    """
    target = supersession.current or supersession.old
    ids = [target.id]
    interpretation = kb.interpretation_of(target.id)
    if interpretation is not None:
        ids.append(interpretation.id)
    filters = Filters(doc_ids=tuple(ids), include_retired=supersession.current is None)
    if supersession.reason is Reason.FIGURE and supersession.current is not None:
        counterpart = _counterpart_query(supersession.old, supersession.evidence)
        if counterpart:
            found = kb.answer(counterpart, Filters(doc_ids=(target.id,)))
            if found.answered:
                return found
    names_the_rule = supersession.reason is not Reason.RANK or _WHOLE_RULE.search(question)
    still = _STILL.search(question)
    if supersession.reason in (Reason.DOC_NUMBER, Reason.YEAR, Reason.RANK) and still and names_the_rule:
        # "…还执行吗" about the old document: the current rules' sentence that repeals it says so; a question
        # about one of its measures ("还是全额贴息不") is answered by what the rules in force say of it
        repeal = kb.answer(f"{supersession.old.title} {supersession.old.doc_number} 同时废止 施行", filters)
        if repeal.answered:
            return repeal
    return kb.answer(question, filters)


_ARTICLE = re.compile(r"第[一二三四五六七八九十百零]+条")
_AMENDS = re.compile(r"(?:将|在|删去|删除)(第[一二三四五六七八九十百零]+条)")


def _touches_amended_article(answer: Answer, amendment: Document) -> bool:
    """Whether the quoted text is (in) an article the amendment changes ("将第八条修改为…"); an amendment
    naming no article is taken to change anything."""
    changed = set(_AMENDS.findall(amendment.body))
    if not changed or answer.passage is None:
        return True
    chunk = answer.passage.chunk.text
    start = chunk.find(answer.text[:20]) if answer.text else -1
    before = _ARTICLE.findall(chunk[: max(start, 0)])
    quoted = set(_ARTICLE.findall(answer.text)) | ({before[-1]} if before else set())
    if not quoted:
        first = _ARTICLE.search(chunk)
        quoted = {first.group()} if first else set()
    return bool(quoted & changed)


def check_question(
    kb: KnowledgeReader, question: str, answer: Answer | None = None
) -> tuple[Supersession | None, Answer | None]:
    """The supersession a question points at and its answer from the rules in force, or (None, None).

    ``answer`` is the question's ordinary answer when the caller has it: when it quotes an amended
    document whose amendment answers the question about as confidently, the amendment is what applies.
    """
    documents = kb.documents()
    passages = kb.search(question, SEARCHED_PASSAGES, Filters(include_retired=True))
    found = find_supersession(kb.retriever().rewrite(question), passages, documents)
    if found is not None:
        return found, answer_superseded(kb, question, found)
    quoted = documents.get(answer.passage.doc_id) if answer is not None and answer.passage is not None else None
    if answer is not None and answer.answered and quoted is not None and quoted.validity is Validity.AMENDED:
        current = in_force(quoted, documents)
        if current is not None and _touches_amended_article(answer, current):
            amended = Supersession(quoted, current, Reason.AMENDED, "")
            newer = answer_superseded(kb, question, amended)
            if newer.answered and newer.confidence >= AMENDMENT_CONFIDENCE * answer.confidence:
                return amended, newer
    return None, None
