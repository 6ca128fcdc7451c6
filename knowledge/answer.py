"""Extractive answers: a short run of sentences from the top passage that answers the question, never generated."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .document import Answer, Chunk, Passage
from .text import bigrams, is_function_bigram, normalize, normalized_bigrams, split_sentences, words

_ANSWER_PREFIX = re.compile(r"^(?:问|問|答|Q|A)\s*[：:]\s*")
_SENTENCE_ENDS = ("。", "！", "？", "；", ";", "!", "?")
_CLAUSE_END = re.compile(r"[，,、：:]")
# "需要什么材料" / "申请条件有哪些": the answer is a list, which official texts introduce with "以下材料："
_LIST_ITEMS = "材料|证件|资料|证明|条件|手续"
_LIST_QUESTION = re.compile(rf"(?:什么|哪些|哪几|啥)(?:{_LIST_ITEMS})|(?:{_LIST_ITEMS})(?:有哪些|是什么|有什么|包括)")
_LIST_INTRO = re.compile(r"(?:以下|下列|如下)[^。；！？]{0,8}[：:]")
LIST_MIN_CHARS = 20  # an introduction whose items fall outside the window ("符合下列条件：" + a chunk break) is no list

Idf = Callable[[str], float]
NextChunk = Callable[[Chunk], "Chunk | None"]


@dataclass(frozen=True)
class ExtractionSettings:
    """How many passages to read, how answers are scored and how long they grow, and the no-answer threshold.

    Tuned on the even-sha1 half of the shared dev questions (bench/tune.py): reading only the top
    passage beats reading three, and a window of up to 200 characters (answers p50 170) holds the
    annotated span far more often than 160 (the annotated spans are median 37, p90 153 characters);
    longer windows hold more but quote a paragraph rather than an answer.
    """

    passages: int = 1
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


def _question_terms(question: str, idf: Idf) -> list[str]:
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


@lru_cache(maxsize=65536)
def _normal(text: str) -> str:
    """The text as matching sees it. Script folding (OpenCC, pure Python) is most of an answer's cost, so
    each sentence is folded once and windows are joined from folded sentences; popular chunks stay cached."""
    return normalize(text).lower()


def _coverage(question_tokens: list[str], text: str, idf: Idf) -> float:
    """IDF-weighted share of the question's terms that appear in the text."""
    return _covered(question_tokens, _normal(text), idf)


def _covered(question_tokens: list[str], target: str, idf: Idf) -> float:
    """``_coverage`` of a text already normalised."""
    if not question_tokens:
        return 0.0
    unique = set(question_tokens)
    total = sum(idf(t) for t in unique)
    found = sum(idf(t) for t in unique if t in target)
    return found / total if total else 0.0


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


def _answer_lines(text: str) -> list[str]:
    lines = text.splitlines()
    if lines and lines[0].startswith("问"):  # a Q&A chunk: the answer is what follows the question
        lines = lines[1:]
    return [_ANSWER_PREFIX.sub("", s) for s in split_sentences("\n".join(lines))]


def _continuation(passage: Passage, following: NextChunk | None) -> list[str]:
    """Sentences of the next chunk of the same document, so an answer may run across a chunk boundary."""
    nxt = following(passage.chunk) if following else None
    if nxt is None or nxt.doc_id != passage.doc_id or nxt.text.startswith("问"):
        return []  # the next Q&A pair answers another question
    return split_sentences(nxt.text)


def _introduces_list(sentence: str, window: str) -> bool:
    """Whether the sentence announces a list ("提交以下材料：") and the window goes on to hold its items."""
    intro = _LIST_INTRO.search(sentence)
    return intro is not None and len(window) - intro.end() >= LIST_MIN_CHARS


def _clip(text: str, max_chars: int) -> str:
    """At most max_chars, cut after the last clause mark that fits (an over-long single sentence)."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    marks = [m.end() for m in _CLAUSE_END.finditer(head)]
    return head[: marks[-1]] if marks and marks[-1] > max_chars // 2 else head


def _window(sentences: list[str], start: int, max_chars: int) -> tuple[str, int]:
    """The window of sentences from ``start`` (≤ max_chars) and the index after its last sentence."""
    text, end = sentences[start], start + 1
    for following in sentences[start + 1 :]:
        if len(text) + len(following) > max_chars:
            break
        text += following if text.endswith(_SENTENCE_ENDS) else "\n" + following  # after a title line
        end += 1
    return _clip(text, max_chars), end


def extract_answer(
    question: str,
    passages: list[Passage],
    idf: Idf,
    settings: ExtractionSettings | None = None,
    following: NextChunk | None = None,
) -> Answer:
    """The window of sentences (≤ max_chars) that best covers the question, with a confidence in [0, 1].

    ``following`` returns the chunk after a given one, letting an answer continue past the end of
    its chunk; without it answers stay within one chunk.
    """
    settings = settings or ExtractionSettings()
    tokens = _question_terms(question, idf)
    best: tuple[float, int, str, str] | None = None
    top_score = passages[0].score if passages else 1.0
    asks_list = bool(_LIST_QUESTION.search(normalize(question)))
    read = max(settings.passages, settings.list_passages if asks_list else 0)
    for p_index, passage in enumerate(passages[:read]):
        own = _answer_lines(passage.chunk.text)
        sentences = own + _continuation(passage, following)
        normal = [_normal(s) for s in sentences]
        prior = settings.prior_weight * passage.score / top_score if top_score > 0 else 0.0
        title_pairs = set(normalized_bigrams(_normal(passage.chunk.title)))  # folded once per title, cached
        for start, sentence in enumerate(own):
            text, end = _window(sentences, start, settings.max_chars)
            introduces_list = asks_list and _introduces_list(sentence, text)
            if p_index >= settings.passages and not introduces_list:
                continue  # beyond the passages read for every question, only list introductions count
            joined = "".join(normal[start:end])
            window = joined if len(text) >= len("".join(sentences[start:end])) else _normal(text)  # unless clipped
            score = _covered(tokens, window, idf) + settings.start_weight * _covered(tokens, normal[start], idf) + prior
            score += settings.list_weight if introduces_list else 0.0
            if restates_title(normal[start], title_pairs, settings.title_overlap) or is_signature(
                sentence, sentences[start + 1] if start + 1 < len(sentences) else ""
            ):
                score -= settings.boilerplate_penalty
            if best is None or score > best[0]:
                best = (score, p_index, sentence, text)
    if best is None:
        return Answer(question, False, "", 0.0, None, tuple(passages))
    _, p_index, sentence, text = best
    passage = passages[p_index]
    confidence = 0.7 * _coverage(tokens, passage.chunk.indexed_text, idf) + 0.3 * _coverage(tokens, sentence, idf)
    answered = confidence >= settings.threshold
    return Answer(question, answered, text if answered else "", round(confidence, 4), passage, tuple(passages))
