"""Extractive answers: the sentence(s) of the top passages that answer the question, never generated."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .document import Answer, Passage
from .text import normalize, split_sentences, tokenize

_ANSWER_PREFIX = re.compile(r"^(?:问|問|答|Q|A)\s*[：:]\s*")


@dataclass(frozen=True)
class ExtractionSettings:
    """How many passages to read, how long an answer may grow, and the no-answer threshold."""

    passages: int = 3
    min_chars: int = 40
    max_chars: int = 160
    threshold: float = 0.30


def _coverage(question_tokens: list[str], text: str, idf: Callable[[str], float]) -> float:
    """IDF-weighted share of the question's words that appear in the text."""
    if not question_tokens:
        return 0.0
    target = normalize(text).lower()
    unique = set(question_tokens)
    total = sum(idf(t) for t in unique)
    found = sum(idf(t) for t in unique if t in target)
    return found / total if total else 0.0


def _candidate_sentences(passage: Passage) -> list[str]:
    lines = passage.chunk.text.splitlines()
    if lines and lines[0].startswith("问"):  # a Q&A chunk: the answer is what follows the question
        lines = lines[1:]
    return [_ANSWER_PREFIX.sub("", s) for s in split_sentences("\n".join(lines))]


def _grow(sentences: list[str], best: int, settings: ExtractionSettings) -> str:
    """The best sentence, extended by the ones after it while the answer is short."""
    text = sentences[best]
    for following in sentences[best + 1 :]:
        if len(text) >= settings.min_chars or len(text) + len(following) > settings.max_chars:
            break
        text += following
    return text


def extract_answer(
    question: str,
    passages: list[Passage],
    idf: Callable[[str], float],
    settings: ExtractionSettings | None = None,
) -> Answer:
    """Pick the best-supported sentence from the top passages, with a confidence in [0, 1]."""
    settings = settings or ExtractionSettings()
    tokens = tokenize(question)
    best: tuple[float, int, int, list[str]] | None = None
    top_score = passages[0].score if passages else 1.0
    for p_index, passage in enumerate(passages[: settings.passages]):
        sentences = _candidate_sentences(passage)
        prior = 0.3 * passage.score / top_score if top_score > 0 else 0.0
        for s_index, sentence in enumerate(sentences):
            previous = sentences[s_index - 1] if s_index else passage.chunk.indexed_text.split("\n")[0]
            score = _coverage(tokens, sentence, idf) + 0.4 * _coverage(tokens, previous, idf) + prior
            if best is None or score > best[0]:
                best = (score, p_index, s_index, sentences)
    if best is None:
        return Answer(question, False, "", 0.0, None, tuple(passages))
    _, p_index, s_index, sentences = best
    passage = passages[p_index]
    confidence = 0.7 * _coverage(tokens, passage.chunk.indexed_text, idf) + 0.3 * _coverage(tokens, sentences[s_index], idf)
    text = _grow(sentences, s_index, settings)
    answered = confidence >= settings.threshold
    return Answer(question, answered, text if answered else "", round(confidence, 4), passage, tuple(passages))
