"""Candidate answer spans from retrieved passages: windows of sentences, list blocks, runs into the next chunk.

Both ways of choosing an answer — the hand-weighted coverage score (``knowledge.answer``) and the learned
selector (``knowledge.selector``) — choose among the same spans, so they differ only in how they score.
Each sentence remembers whether it opened a line of its source, so a quoted list stays a list and a
contact entry keeps 地址 / 电话 / 办公时间 on lines of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from .document import Chunk, Passage
from .qtypes import QType, asking_spans, gives
from .text import bigrams, is_function_bigram, is_function_word, normalize, normalized_bigrams, split_sentences, words

NextChunk = Callable[[Chunk], "Chunk | None"]
Idf = Callable[[str], float]

_ANSWER_PREFIX = re.compile(r"^(?:问|問|答|Q|A)\s*[：:]\s*")
_CLAUSE_END = re.compile(r"[，,、：:]")
# "提交以下材料：", and as often "单位申请补贴一般需提交：" with no 以下 before the colon
_LIST_INTRO = re.compile(
    r"(?:以下|下列|如下)[^。；！？]{0,8}[：:]|(?:提交|提供|携带|准备|带齐)[^。；！？：:]{0,6}[：:]"
)
LIST_MIN_CHARS = 20  # an introduction whose items fall outside the window ("符合下列条件：" + a chunk break) is no list
# an enumerated item opening a sentence: 1. / 1、 / （一） / ① — the chunker runs a section's items onto one line
_ITEM_START = re.compile(r"^(?:\d{1,2}[.．、)）](?!\d)|[（(][一二三四五六七八九十\d]{1,3}[）)]|[①②③④⑤⑥⑦⑧⑨⑩])")
# a heading line: short, no sentence end; the chunker keeps a line break after it
_HEADING_LINE = re.compile(r"^[^。；！？!?;]{2,40}$")
# the labelled fields of a contact entry, which the chunker runs together ("地址：…号咨询电话：0631-…"); longest
# first, so 咨询电话 is found before the 电话 inside it
_FIELD_LABELS = sorted(
    "地址 办公地址 办事地址 办理地点 受理地点 地点 咨询电话 联系电话 服务电话 办公电话 投诉电话 监督举报电话 服务热线 "
    "电话 传真 邮箱 网址 办公时间 工作时间 受理时间 服务时间 主要事项 联系人 邮编".split(),
    key=len,
    reverse=True,
)
_FIELD = re.compile(rf"(?:{'|'.join(_FIELD_LABELS)})[：:]")
# a list run onto its introduction's line ("提交以下材料：1. 申请书；2. …"): its first item opens a line too
_ITEM_AFTER_COLON = re.compile(r"(?<=[：:])\s*(?=\d{1,2}[.．、](?!\d)|[（(][一二三四五六七八九十]{1,3}[）)])")
# a new part or article (二、 / 第七条 / 第三章): a window stops before it, it answers something else
_SECTION = re.compile(r"^(?:[一二三四五六七八九十]+、|第[一二三四五六七八九十百\d]+[章节条])")
# the next article or part opens the list a materials question wants ("第六条 申请人应提交以下材料：", "五、所需材料")
_MATERIALS_OPENER = re.compile(r"材料|证件|资料|证明|要件|携带|提交|提供|准备")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """The text as matching sees it. Script folding (OpenCC, pure Python) is most of an answer's cost, so
    each sentence is folded once and windows are joined from folded sentences; popular chunks stay cached."""
    return normalize(text).lower()


@dataclass(frozen=True)
class Sentence:
    """One sentence of a passage (or of the chunk after it), as quoted and as matched."""

    text: str
    normal: str
    line_start: bool  # it opened a line of its source, so a quote puts it on a new line
    own: bool = True  # False for the next chunk's sentences, which a span may run into but not start from
    # the first sentence of a next chunk that is another part of the document ("三、门诊待遇" after "二、筹资标准
    # 和缴费"): a window stops before it, as it stops before a new article
    new_part: bool = False


@dataclass(frozen=True)
class Span:
    """A run of sentences ``start``..``end`` of passage number ``passage``: one candidate answer."""

    passage: int
    start: int
    end: int
    text: str
    normal: str
    is_list: bool = False  # a list block: an introduction or heading and its items, quoted whole
    clipped: bool = False


@dataclass(frozen=True)
class SpanContext:
    """A question with its retrieved passages and their candidate spans: what both ways of choosing read."""

    question: str
    qtype: QType
    tokens: list[str]
    idf: Idf
    passages: list[Passage]
    sentences: list[list[Sentence]]
    spans: list[Span]


def break_fields(line: str) -> str:
    """A contact entry's fields each on a line of their own ("…188号\n咨询电话：…"). Labels are matched
    leftmost-longest, so the 电话 inside 咨询电话 is never taken for a field of its own."""
    out, last = [], 0
    for field in _FIELD.finditer(line):
        start = field.start()
        if start > 0 and line[start - 1] not in "\n \t：:（(“":
            out += [line[last:start], "\n"]
            last = start
    return "".join(out) + line[last:]


def _sentences_of(text: str, own: bool, skip_question: bool) -> list[Sentence]:
    lines = text.splitlines()
    if skip_question and lines:
        lines = lines[1:]  # a Q&A chunk: the answer is what follows the question
    out = []
    for line in lines:
        line = _ITEM_AFTER_COLON.sub("\n", break_fields(line))
        for part in line.splitlines():
            pieces = split_sentences(part)
            for i, piece in enumerate(pieces):
                piece = _ANSWER_PREFIX.sub("", piece)
                if piece:
                    out.append(Sentence(piece, fold(piece), i == 0 or bool(_ITEM_START.match(piece)), own))
    return out


def passage_sentences(passage: Passage, following: NextChunk | None) -> list[Sentence]:
    """The passage's own sentences, then those of the next chunk of the same document (not a new Q&A pair)."""
    own = _sentences_of(passage.chunk.text, True, passage.chunk.is_qa_pair)
    nxt = following(passage.chunk) if following else None
    if nxt is None or nxt.doc_id != passage.doc_id or nxt.is_qa_pair:
        return own
    after = _sentences_of(nxt.text, False, False)
    if after and nxt.heading_path != passage.chunk.heading_path:
        after[0] = replace(after[0], new_part=True)
    return own + after


def join(sentences: list[Sentence]) -> str:
    """The sentences as one quote, each that opened a line of its source on a line of its own."""
    text = ""
    for s in sentences:
        text += ("\n" if text and s.line_start else "") + s.text
    return text


def clip(text: str, max_chars: int) -> str:
    """At most max_chars, cut after the last clause mark that fits (an over-long single sentence)."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    marks = [m.end() for m in _CLAUSE_END.finditer(head)]
    return head[: marks[-1]] if marks and marks[-1] > max_chars // 2 else head


def window(sentences: list[Sentence], start: int, max_chars: int) -> tuple[str, int]:
    """The window of sentences from ``start`` (≤ max_chars) and the index after its last sentence."""
    end, size = start + 1, len(sentences[start].text)
    for i, s in enumerate(sentences[start + 1 :], start + 1):
        if size + len(s.text) > max_chars or s.new_part or (s.line_start and _SECTION.match(s.text)):
            break
        if is_signature(s.text, sentences[i + 1].text if i + 1 < len(sentences) else ""):
            break  # a closing signature (落款) is no part of an answer, and its issuer's name would match questions
        size += len(s.text)
        end += 1
    while end - start > 1 and is_heading(sentences[end - 1]) and not _FIELD.match(sentences[end - 1].text):
        end -= 1  # a heading introduces what follows it: a window does not end on one (an entry's 电话 line may)
    return clip(join(sentences[start:end]), max_chars), end


def is_item(sentence: Sentence) -> bool:
    return bool(_ITEM_START.match(sentence.text))


def is_heading(sentence: Sentence) -> bool:
    """A short line without a sentence end that opens a line: a heading (五、所需材料) or a label."""
    return sentence.line_start and bool(_HEADING_LINE.match(sentence.text)) and not is_item(sentence)


def introduces_list(sentence: Sentence, window_text: str) -> bool:
    """Whether the sentence announces a list ("提交以下材料：") and the window goes on to hold its items."""
    intro = _LIST_INTRO.search(sentence.text)
    return intro is not None and len(window_text) - intro.end() >= LIST_MIN_CHARS


def list_block(sentences: list[Sentence], start: int, max_chars: int) -> tuple[str, int] | None:
    """The list that sentence ``start`` opens — an introduction ("所需材料如下：") or a heading (五、所需材料)
    followed by two or more items — through its last item, at most ``max_chars``; None when it opens none."""
    opener = sentences[start]
    if not (_LIST_INTRO.search(opener.text) or opener.text.endswith(("：", ":")) or is_heading(opener)):
        return None
    end, size = start + 1, len(opener.text)
    while end < len(sentences) and is_item(sentences[end]) and size + len(sentences[end].text) <= max_chars:
        size += len(sentences[end].text)
        end += 1
    if end - start < 3:
        return None
    return join(sentences[start:end]), end


def list_after(sentences: list[Sentence], start: int, end: int, max_chars: int) -> tuple[str, int] | None:
    """The window ``start``..``end`` run on through the list of materials that the next article or part opens
    at ``end`` ("第五条 同一创业主体只能享受一次…" then "第六条 申请人应提交以下材料：1. …"), at most ``max_chars``;
    None when the window does not stop at such a list.

    The article a materials question matches best is often the one naming the benefit, or a lead-in
    ("按第六条规定提交材料"), while the list sits in the next article, which the window would not enter.
    """
    if end >= len(sentences) or not (sentences[end].line_start and _SECTION.match(sentences[end].text)):
        return None
    if not _MATERIALS_OPENER.search(sentences[end].text):
        return None
    size = sum(len(s.text) for s in sentences[start:end])
    block = list_block(sentences, end, max_chars - size)
    return (join(sentences[start : block[1]]), block[1]) if block is not None else None


def candidate_spans(
    passages: list[Passage],
    following: NextChunk | None,
    max_chars: int,
    list_max_chars: int,
    read: int,
    lists_after: bool = False,
) -> tuple[list[list[Sentence]], list[Span]]:
    """Every passage's sentences, and the spans starting at each own sentence of the first ``read`` passages:
    the greedy window of up to ``max_chars`` and, where a list opens, the whole list up to ``list_max_chars``;
    with ``lists_after`` (a materials question) also a window run on into the list of materials that the
    next article opens (``list_after``)."""
    all_sentences: list[list[Sentence]] = []
    spans: list[Span] = []
    for p_index, passage in enumerate(passages[:read]):
        sentences = passage_sentences(passage, following)
        all_sentences.append(sentences)
        for start, sentence in enumerate(sentences):
            if not sentence.own:
                break
            text, end = window(sentences, start, max_chars)
            full = sum(len(s.text) for s in sentences[start:end]) <= len(text)
            normal = "".join(s.normal for s in sentences[start:end]) if full else fold(text)
            spans.append(Span(p_index, start, end, text, normal, clipped=not full))
            block = list_block(sentences, start, list_max_chars)
            if block is not None and block[1] > end:
                normal = "".join(s.normal for s in sentences[start : block[1]])
                spans.append(Span(p_index, start, block[1], block[0], normal, is_list=True))
            after = list_after(sentences, start, end, list_max_chars) if lists_after and full else None
            if after is not None:
                normal = "".join(s.normal for s in sentences[start : after[1]])
                spans.append(Span(p_index, start, after[1], after[0], normal, is_list=True))
    return all_sentences, spans


# -- matching: how much of the question a text holds, and what is boilerplate ------------------------------


def question_terms(question: str, idf: Idf) -> list[str]:
    """The question's words, and those of its bigrams the index has seen.

    A bigram no chunk contains mostly straddles two words (价现, 少钱 in 公交票价现在多少钱) and would
    only lower every passage's coverage; an unseen *word* (火星) must count, it is what makes an
    unrelated question score low.
    """
    content = words(question)
    if not content:
        return []  # only function words (的了是在我有): nothing to answer
    unseen = idf("\x00")  # the idf of a term that occurs nowhere
    return content + [b for b in bigrams(question) if idf(b) < unseen and not is_function_bigram(b)]


def covered(question_tokens: list[str], target: str, idf: Idf, answered: frozenset[str] = frozenset()) -> float:
    """IDF-weighted share of the question's terms that appear in ``target`` (already folded); the terms in
    ``answered`` count as found (``asked_terms`` of a span that gives the asked kind of answer)."""
    if not question_tokens:
        return 0.0
    unique = set(question_tokens)
    total = sum(idf(t) for t in unique)
    found = sum(idf(t) for t in unique if t in target or t in answered)
    return found / total if total else 0.0


def asked_terms(question: str, tokens: list[str]) -> frozenset[str]:
    """The question's terms that lie inside its asking words (多久, 几天, 多少钱, 带啥) wherever they occur, or
    join one to a function word (久能 in 多久能响应); not those joining one to a word of the subject (少度 in
    "气温是多少度": the 度 is the subject).

    Spoken questions ask with rare words: in "紧急的事打12345多久能响应", 多久 and 久能 carry a fifth of the
    question's weight, and no text says 多久; the text answers it with "2小时内". Such a term is answered by a
    span that gives that kind of answer, not by a span that repeats it.
    """
    text = normalize(question).lower()
    asking = [False] * len(text)  # which characters belong to an asking word
    for start, end in asking_spans(text):
        asking[start:end] = [True] * (end - start)
    if not any(asking):
        return frozenset()
    return frozenset(
        term
        for term in set(tokens)
        if (starts := [m.start() for m in re.finditer(re.escape(term), text)])
        and all(_asks(text[s : s + len(term)], asking[s : s + len(term)]) for s in starts)
    )


def _asks(term: str, asking: list[bool]) -> bool:
    """Whether an occurrence of ``term`` (``asking``: which of its characters are in an asking word) overlaps an
    asking word, and what lies outside asking words is a function word."""
    outside = "".join(char for char, flag in zip(term, asking, strict=True) if not flag)
    return any(asking) and (not outside or is_function_word(outside))


_NUMERAL = "〇○零一二三四五六七八九十"
_DATE = rf"(?:\d{{4}}|[{_NUMERAL}]{{4}})\s*年\s*[\d{_NUMERAL}]{{1,3}}\s*月\s*[\d{_NUMERAL}]{{1,3}}\s*日"
_CLAUSE_MARKS = "。，；！？,;!?"
_SIGNATURE = re.compile(rf"^[^{_CLAUSE_MARKS}]{{2,60}}?{_DATE}\s*$")
_BARE_DATE = re.compile(rf"^{_DATE}\s*$")
_CLAUSE = re.compile(f"[{_CLAUSE_MARKS}]")


def is_signature(sentence: str, following: str = "") -> bool:
    """Whether a line is a closing signature (落款): an issuing body (or contact line) and a date, no clause.

    The date may be on the same line or on the ``following`` one.
    """
    line = sentence.strip()
    if _SIGNATURE.match(line):
        return True
    return bool(_BARE_DATE.match(following.strip())) and 2 <= len(line) <= 60 and not _CLAUSE.search(line)


def restates_title(normalized_sentence: str, title_pairs: set[str], overlap: float) -> bool:
    """Whether the (normalised) sentence holds at least ``overlap`` of the title's character pairs."""
    if not title_pairs:
        return False
    return len(title_pairs & set(normalized_bigrams(normalized_sentence))) >= overlap * len(title_pairs)


def is_boilerplate(sentences: list[Sentence], start: int, title_pairs: set[str], overlap: float) -> bool:
    """A span opening with a restatement of the document's title or with its closing signature (落款)."""
    following = sentences[start + 1].text if start + 1 < len(sentences) else ""
    return restates_title(sentences[start].normal, title_pairs, overlap) or is_signature(
        sentences[start].text, following
    )


def title_pairs(passage: Passage) -> set[str]:
    """The character pairs of the passage's document title (folded once per title, cached)."""
    return set(normalized_bigrams(fold(passage.chunk.title)))


# A span that gives the asked kind of answer (qtypes.gives) answers the question's asking words only in a passage
# about the question's subject, its other terms mostly there: "临时身份证管多长时间" is not answered by the 不动产
# FAQ's "3个工作日内办结", which shares only 多长时间's words. 0.4 and 0.3 gave the same colloquial tune rows, 0.5
# refused one more, no threshold answered that 临时身份证 question wrongly.
SUBJECT_COVERED = 0.4


def confidence(context: SpanContext, span: Span) -> float:
    """How sure an answer from ``span`` is: the question's coverage by its passage (with title and headings),
    and by the span's first sentence. Below the threshold the answer is the honest no-answer. A span that gives
    the asked kind of answer also covers the asking words (``asked_terms``)."""
    tokens, idf = context.tokens, context.idf
    # a span from another part of the top passage's document (the Q&A pair that lists the materials, below
    # the one that matched the question's words) is as sure as the document's match
    own = context.passages[span.passage]
    same = own.doc_id == context.passages[0].doc_id
    read = [fold(p.chunk.indexed_text) for p in ([own, context.passages[0]] if same else [own])]
    answered: frozenset[str] = frozenset()
    if gives(context.qtype, span.text):
        asked = asked_terms(context.question, tokens)
        subject = [t for t in tokens if t not in asked]
        if subject and max(covered(subject, text, idf) for text in read) >= SUBJECT_COVERED:
            answered = asked
    first = covered(tokens, context.sentences[span.passage][span.start].normal, idf, answered)
    passage = max(covered(tokens, text, idf, answered) for text in read)
    return 0.7 * passage + 0.3 * first
