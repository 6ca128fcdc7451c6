"""A learned answer selector: logistic regression over features of each candidate span that a person can read.

Trained by ``knowledge.training`` on the shared dev questions (``python -m knowledge train-selector`` or
``bench/selector.py --train``). The weights, the feature names and the standardisation ship as a small
JSON file (knowledge/selector.json) read with numpy only. Without the file the assistant answers with the
hand-weighted extraction and logs one line saying so.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .qtypes import QType, asks_the_same, heading_asks, type_fit
from .spans import (
    SpanContext,
    covered,
    fold,
    introduces_list,
    is_boilerplate,
    is_heading,
    title_pairs,
)
from .text import normalized_bigrams

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).with_name("selector.json")
FORMAT = 1
_TYPED = tuple(t for t in QType if t is not QType.OTHER)
# every feature, named as the JSON file names its weight: what the span holds of the question (coverage:
# idf-weighted share of its terms), where it sits, what it looks like, and how it compares with the best
# candidate of the same question (the *_gap features: a span is chosen among its rivals, not alone)
FEATURES: tuple[str, ...] = (
    "coverage",  # of the whole span
    "first_coverage",  # of its first sentence
    "second_coverage",  # of its second sentence
    "previous_coverage",  # of the sentence before it: a span often answers right after the sentence naming the topic
    "best_sentence_coverage",  # of its best sentence
    "best_sentence_position",  # where in the span that sentence is (0 first, 1 last)
    "new_coverage",  # what the span adds to its first sentence
    "passage_coverage",  # of the passage with its title and headings
    "title_coverage",
    "heading_coverage",
    "coverage_gap",
    "first_coverage_gap",
    "best_sentence_gap",
    "passage_coverage_gap",
    "retrieval_prior",  # passage score / top passage score
    "top_passage",
    "passage_rank",
    "bm25_rank",
    "same_document_as_top",
    "opens_chunk",
    "position",
    "length",
    "sentences",
    "runs_into_next_chunk",
    "clipped",
    "boilerplate",  # opens with a title restatement or a 落款
    "opens_with_heading",
    "short_first_sentence",
    "ends_sentence",
    "list_block",
    "list_introduction",
    "faq_asks_the_same",  # a Q&A pair whose own question asks for the same kind of answer (qtypes)
    "heading_asks_the_same",  # a part titled for that kind of answer ("四、办理流程" for "…咋办"; qtypes.heading_asks)
    "bigram_share",  # share of the question's character pairs the span holds, idf aside
    "question_numbers",  # share of the question's figures the span repeats
    # the hand-weighted extraction's view of the span (knowledge.answer.hand_scores): whether it is one of its
    # candidates, how far below its best it scores, and whether it is its pick; the selector learns when to
    # follow the hand rules (question types, Q&A headings, lists) and when the other features overrule them
    "hand_candidate",
    "hand_gap",
    "hand_pick",
    *(f"type_fit_{t.value}" for t in _TYPED),  # qtypes.type_fit for the question's own type, 0 for the others
    *(f"first_type_fit_{t.value}" for t in _TYPED),
)
_GAPS = {
    "coverage_gap": "coverage",
    "first_coverage_gap": "first_coverage",
    "best_sentence_gap": "best_sentence_coverage",
    "passage_coverage_gap": "passage_coverage",
}
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_SENTENCE_END = ("。", "！", "？", "；", ";", "!", "?")


HAND_FLOOR = -3.0  # the hand_gap of a span the hand-weighted extraction does not consider, and the lowest gap


def span_features(
    context: SpanContext, overlap: float, hand: Sequence[float | None] | None = None
) -> np.ndarray:
    """One row per candidate span, one column per name in FEATURES; ``hand`` holds each span's hand-weighted
    score (None: not its candidate), without which the hand features are those of a span it does not consider."""
    tokens, idf, spans = context.tokens, context.idf, context.spans
    read = context.passages[: len(context.sentences)]
    top_score = read[0].score if read and read[0].score > 0 else 1.0
    q_pairs = set(normalized_bigrams(fold(context.question)))
    numbers = set(_DIGITS.findall(context.question))
    sentence_cov = [[covered(tokens, s.normal, idf) for s in sentences] for sentences in context.sentences]
    passage_cov = [covered(tokens, fold(p.chunk.indexed_text), idf) for p in read]
    title_cov = [covered(tokens, fold(p.chunk.title), idf) for p in read]
    heading_cov = [covered(tokens, fold(" ".join(p.chunk.heading_path)), idf) for p in read]
    pairs = [title_pairs(p) for p in read]
    column = {name: i for i, name in enumerate(FEATURES)}
    matrix = np.zeros((len(spans), len(FEATURES)), dtype=np.float64)
    for row, span in enumerate(spans):
        sentences, cov = context.sentences[span.passage], sentence_cov[span.passage]
        first, own, passage = sentences[span.start], sum(1 for s in sentences if s.own), read[span.passage]
        inside = cov[span.start : span.end]
        best = int(np.argmax(inside))
        whole = covered(tokens, span.normal, idf)
        values = {
            "coverage": whole,
            "first_coverage": cov[span.start],
            "second_coverage": cov[span.start + 1] if span.start + 1 < span.end else 0.0,
            "previous_coverage": cov[span.start - 1] if span.start else 0.0,
            "best_sentence_coverage": inside[best],
            "best_sentence_position": best / max(len(inside) - 1, 1),
            "new_coverage": whole - cov[span.start],
            "passage_coverage": passage_cov[span.passage],
            "title_coverage": title_cov[span.passage],
            "heading_coverage": heading_cov[span.passage],
            "retrieval_prior": passage.score / top_score,
            "top_passage": float(span.passage == 0),
            "passage_rank": span.passage / 2,
            "bm25_rank": min(passage.bm25_rank if passage.bm25_rank is not None else 10, 10) / 10,
            "same_document_as_top": float(passage.doc_id == read[0].doc_id),
            "opens_chunk": float(span.start == 0),
            "position": span.start / max(own, 1),
            "length": len(span.text) / 200,
            "sentences": (span.end - span.start) / 5,
            "runs_into_next_chunk": float(span.end > own),
            "clipped": float(span.clipped),
            "boilerplate": float(is_boilerplate(sentences, span.start, pairs[span.passage], overlap)),
            "opens_with_heading": float(is_heading(first)),
            "short_first_sentence": float(len(first.text) < 12),
            "ends_sentence": float(span.text.endswith(_SENTENCE_END)),
            "list_block": float(span.is_list),
            "list_introduction": float(introduces_list(first, span.text)),
            "faq_asks_the_same": float(asks_the_same(passage, context.qtype)),
            "heading_asks_the_same": float(heading_asks(passage, context.qtype)),
            "bigram_share": len(q_pairs & set(normalized_bigrams(span.normal))) / len(q_pairs) if q_pairs else 0.0,
            "question_numbers": len(numbers & set(_DIGITS.findall(span.text))) / len(numbers) if numbers else 0.0,
        }
        if context.qtype is not QType.OTHER:
            values[f"type_fit_{context.qtype.value}"] = type_fit(context.qtype, span.text)
            values[f"first_type_fit_{context.qtype.value}"] = type_fit(context.qtype, first.text)
        for name, value in values.items():
            matrix[row, column[name]] = value
    if hand is not None and len(hand) == len(spans):
        given = [h for h in hand if h is not None]
        top = max(given) if given else 0.0
        pick = next((i for i, h in enumerate(hand) if h is not None and h == top), -1)
        for row, h in enumerate(hand):
            matrix[row, column["hand_candidate"]] = float(h is not None)
            matrix[row, column["hand_gap"]] = max(h - top, HAND_FLOOR) if h is not None else HAND_FLOOR
            matrix[row, column["hand_pick"]] = float(row == pick)
    else:
        matrix[:, column["hand_gap"]] = HAND_FLOOR
    if len(spans):
        for gap, of in _GAPS.items():
            matrix[:, column[gap]] = matrix[:, column[of]] - matrix[:, column[of]].max()
    return matrix


@dataclass(frozen=True)
class Selector:
    """Standardised features times learned weights: the span with the highest score is the answer."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        size = len(FEATURES)
        if not (self.mean.shape == self.scale.shape == self.weights.shape == (size,)):
            raise ValueError(f"a selector needs {size} means, scales and weights, one per feature")

    def scores(self, features: np.ndarray) -> np.ndarray:
        """The log-odds that each span holds the answer."""
        return ((features - self.mean) / self.scale) @ self.weights + self.intercept

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "model": "conditional logistic regression over standardised span features (knowledge/selector.py)",
            "intercept": round(self.intercept, 6),
            "features": {
                name: {"weight": round(float(w), 6), "mean": round(float(m), 6), "scale": round(float(s), 6)}
                for name, w, m, s in zip(FEATURES, self.weights, self.mean, self.scale, strict=True)
            },
            **self.meta,
        }
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Selector:
        """Read weights written by ``to_json``; a file for other features is refused (ValueError)."""
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"selector format {data.get('format')!r}, expected {FORMAT}")
        table = data["features"]
        missing = [name for name in FEATURES if name not in table]
        if missing or len(table) != len(FEATURES):
            raise ValueError(f"selector weights do not match this version's features (missing: {missing[:3]})")
        column = [table[name] for name in FEATURES]
        meta = {k: v for k, v in data.items() if k not in ("format", "model", "intercept", "features")}
        return cls(
            np.array([c["mean"] for c in column], dtype=np.float64),
            np.array([c["scale"] or 1.0 for c in column], dtype=np.float64),
            np.array([c["weight"] for c in column], dtype=np.float64),
            float(data["intercept"]),
            meta,
        )


@lru_cache(maxsize=8)
def load_selector(path: Path) -> Selector | None:
    """The selector at ``path``, once per process; None (and one log line) when it is missing or unreadable."""
    try:
        return Selector.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.warning(
            "answer selector %s not found: answers use the hand-weighted extraction "
            "(python -m knowledge train-selector trains it on the shared dev questions)",
            path,
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("answer selector %s unusable (%s): answers use the hand-weighted extraction", path, error)
    return None
