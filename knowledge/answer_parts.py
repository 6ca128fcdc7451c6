"""Two questions in one message ("创业贷款最多贷多少 要啥条件"): split, each answered on its own.

Citizens type two questions at once without a question mark between them. One extractive answer quotes one
span, which answers one of them; the reply should answer both. A message splits into at most two parts at a
space, a comma or a question mark when each part asks for a different kind of answer (``knowledge.qtypes``:
an amount and eligibility, a place and a phone number is one kind); the second part, which seldom repeats the
subject ("要啥条件"), borrows the first part's subject words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .coverage import key_terms
from .document import Answer
from .qtypes import QType, question_type

_BREAK = re.compile(r"[\s，,。？?！!；;]+")
MIN_PART_CHARS = 2  # "多少" alone still asks something; one character ("吗") does not


@dataclass(frozen=True)
class Part:
    """One sub-question: the text searched and answered, and the citizen's own words for it."""

    question: str
    typed: str
    qtype: QType


def split_question(question: str) -> list[Part]:
    """The message's two sub-questions when it asks two kinds of thing, else the message as its only part."""
    whole = Part(question, question, question_type(question))
    pieces = [p for p in _BREAK.split(question.strip()) if p]
    if len(pieces) < 2:
        return [whole]
    # the break that leaves two parts of different kinds, the earliest first
    for cut in range(1, len(pieces)):
        first, second = "".join(pieces[:cut]), "".join(pieces[cut:])
        if min(len(first), len(second)) < MIN_PART_CHARS:
            continue
        kinds = question_type(first), question_type(second)
        if QType.OTHER in kinds or kinds[0] is kinds[1]:
            continue
        subject = "".join(term for term in key_terms(first) if term not in second)
        return [Part(first, first, kinds[0]), Part(subject + second, second, kinds[1])]
    return [whole]


def answer_parts(question: str, answer: Callable[[str], Answer]) -> list[tuple[Part, Answer]]:
    """Each sub-question with its answer (``answer`` is the reader's, filters bound); one part for one question."""
    return [(part, answer(part.question)) for part in split_question(question)]


def answers_both(parts: list[tuple[Part, Answer]]) -> bool:
    """Whether a two-part reply says more than one answer would: both parts answered, by different quotes."""
    return len(parts) == 2 and all(a.answered for _, a in parts) and parts[0][1].text != parts[1][1].text
