"""Whether the knowledge base covers a question at all: its key terms must occur somewhere in it.

Retrieval always returns the closest passages, and a question off the base's topics can still share most of
its words with one ("驾照到期了咋换" with the 身份证 FAQ's 到期换领, 0.62; "公积金贷款最多能贷多少" with the
创业担保贷款 rules). Confidence measures how much of the question a passage holds, not whether the base
speaks of the question's subject. So before answering, the question's key terms — dictionary nouns and
verbs of two or more characters, after normalisation and synonyms, question words aside — are looked up in
the whole base's text. When most of them occur nowhere (驾照, 护照, 结婚登记 in a county's policy base), the
base does not cover the question and the honest no-answer with the hotline is the right reply.

jieba's part-of-speech tags choose the terms (no library decides "what a question is about" for Chinese
policy text without a model); the lookup reads the index's own term statistics, so it costs microseconds and
follows every new index generation.
"""

from __future__ import annotations

from functools import lru_cache

import jieba
import jieba.posseg

from .index import HybridIndex
from .text import ABBREVIATIONS, normalize, normalized_bigrams

# tags of words that carry no subject: numerals, time words, adverbs, pronouns, conjunctions, prepositions,
# localisers, measure words, particles, interjections, punctuation and non-Chinese tokens
_FUNCTION_TAGS = frozenset("m mq t tg d dg r rr rz c p f q u ug uj ul uv uz ud y e o x w eng zg".split())
# words every policy question may use and a base need not: how a question asks, not what about
QUESTION_WORDS = frozenset(
    "怎么办 怎么 什么 为什么 时候 什么时候 是否 多少 哪里 哪些 哪个 如何 需要 可以 能够 还有 是不是 有没有 "
    "请问 知道 问题 情况 事情 东西 办法 一下 现在 以后 之前 以前 已经 应该 那个 这个 一个".split()
)
# below this share of a question's key terms found in the base, the base does not cover it
MIN_FOUND_SHARE = 0.5


@lru_cache(maxsize=1)
def _tagger() -> jieba.posseg.POSTokenizer:
    jieba.dt.check_initialized()
    return jieba.posseg.dt


def key_terms(question: str) -> list[str]:
    """The question's subject words: dictionary words of two or more characters that are not function words,
    question words or abbreviations (those the index expands itself)."""
    terms = []
    for pair in _tagger().lcut(normalize(question).lower(), HMM=False):
        word, tag = pair.word.strip(), pair.flag
        if len(word) < 2 or tag in _FUNCTION_TAGS or word in QUESTION_WORDS or word in ABBREVIATIONS:
            continue
        if jieba.dt.FREQ.get(word, 0) > 0 and word not in terms:
            terms.append(word)
    return terms


class Coverage:
    """Whether the base holds a question's key terms, read from the index's term statistics (no text kept).

    A term occurs in the base when the index holds it as a word, or holds every pair of its characters (the
    index keeps each chunk's character pairs): "结婚登记" is not held when no chunk says 婚登. The pairs may
    come from different places, so a term may count as held when it is not; the check then answers, as it
    would without this module, and never refuses a question the base words the same way.
    """

    def __init__(self, index: HybridIndex) -> None:
        self.index = index

    def holds(self, term: str) -> bool:
        """Whether the term (folded) occurs in the base, as a word or as all of its character pairs."""
        unseen = self.index.idf("\x00")  # the idf of a term no chunk holds
        if self.index.idf(term) < unseen:
            return True
        pairs = normalized_bigrams(term)
        return len(term) > 2 and bool(pairs) and all(self.index.idf(pair) < unseen for pair in pairs)

    def missing(self, question: str) -> list[str]:
        """The key terms of the question that occur nowhere in the base."""
        return [term for term in key_terms(question) if not self.holds(term)]

    def covers(self, question: str) -> bool:
        """Whether at least MIN_FOUND_SHARE of the question's key terms occur in the base (True without any)."""
        terms = key_terms(question)
        if not terms:
            return True
        return sum(self.holds(term) for term in terms) / len(terms) >= MIN_FOUND_SHARE
