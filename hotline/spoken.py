"""Spoken Chinese as speech recognition writes it: sentences recovered without punctuation, fillers removed.

Sentences end at 。！？；!?; and at line breaks; a space between two Chinese characters is a pause
(recognisers without a punctuation model write one there). A long run with neither is split before
words that open a new utterance (请问, 我想问, 另外, 还有一个, 然后呢, 您好 …) and after a question
particle (吗, 呢, 吧) followed by more speech. Fillers (嗯, 啊, 呃, 就是说, 然后呢, and 那个 / 这个
when no noun follows) and immediate repetitions ("我想问一下我想问一下") are removed; numbers, spoken
or written, are left exactly as said for the personal-data module to read.
"""

from __future__ import annotations

import re

TERMINATORS = "。！？；!?;"
_HARD_SPLIT = re.compile(r"(?<=[。！？；!?;])|\n+")
_PAUSE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")  # a space after a comma is only typography

# Words that open a new utterance in unpunctuated speech; a split needs two characters before them.
OPENERS = (
    "您好",
    "你好",
    "喂",
    "请问",
    "我想问",
    "我想咨询",
    "我想了解",
    "我想反映",
    "我问一下",
    "另外",
    "还有一个",
    "还有就是",
    "然后呢",
    "对了",
    "好的",
    "谢谢",
    "再见",
    "我要投诉",
    "我要举报",
    "麻烦",
    "没有了",
    "那我",
)
_OPENER_SPLIT = re.compile(r"(?<=[\u4e00-\u9fff]{2})(?=(?:" + "|".join(OPENERS) + "))")
# A question particle followed by more speech (not by punctuation) ends a question: "…怎么申请呢需要…".
_PARTICLE_SPLIT = re.compile(r"(?<=[\u4e00-\u9fff]{2}[吗呢吧])(?=[\u4e00-\u9fff]{2})")
UNPUNCTUATED_RUN = 16  # characters: shorter pieces are left whole

_NUMERALS = set("0123456789零〇一二三四五六七八九十幺两")
_FILLERS = re.compile(
    r"就是说|然后呢|怎么说呢|你知道吧|[嗯呃]+|啊+|(?:那个|这个)(?=[我你他她咱就是嗯啊呃的，,、\s]|$)|^[额哦喂唉]+(?=[，,\s]|$)"
)
_LEADING_NOISE = re.compile(r"^[，,、\s。！？；!?;]+")
_REPEATED = re.compile(r"([\u4e00-\u9fffA-Za-z0-9]{2,12}?)\1+")
_PUNCT_RUNS = re.compile(r"([，,、])[，,、\s]+")


def split_sentences(text: str) -> list[str]:
    """Sentences as spoken, each keeping its own terminator when it had one."""
    pieces: list[str] = []
    text = _REPEATED.sub(_collapse, text)  # "我想问一下我想问一下" is one opener, not two sentences
    for line in _HARD_SPLIT.split(text):
        for pause in _PAUSE.split(line.strip()):
            pieces.extend(_split_run(pause.strip()))
    return [p for p in pieces if p]


def _split_run(piece: str) -> list[str]:
    """Split a long piece that has no terminator inside it before openers and after question particles."""
    body = piece.rstrip(TERMINATORS)
    if len(body) < UNPUNCTUATED_RUN or any(mark in body for mark in TERMINATORS):
        return [piece]
    parts = [p for chunk in _OPENER_SPLIT.split(piece) for p in _PARTICLE_SPLIT.split(chunk)]
    return [p.strip() for p in parts if p.strip()]


def _collapse(match: re.Match[str]) -> str:
    unit = match[1]
    return match[0] if set(unit) <= _NUMERALS else unit  # "一二一二" may be part of a phone number


def clean_sentence(sentence: str) -> str:
    """A sentence without fillers, stutters or leading punctuation; empty when nothing but filler was said."""
    text = _FILLERS.sub("", sentence.strip())
    text = _REPEATED.sub(_collapse, text)
    text = _PUNCT_RUNS.sub(r"\1", text)
    text = _LEADING_NOISE.sub("", text).strip()
    return "" if not text.rstrip(TERMINATORS + "，,、") else text


def has_cjk(text: str) -> bool:
    """Whether the text holds at least one Chinese character."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
