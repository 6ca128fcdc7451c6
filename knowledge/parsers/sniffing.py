"""Find a title, 文号 and 成文日期 in the text of a document that carries no metadata."""

from __future__ import annotations

import re

from knowledge.parsers.dates import is_date_line

# 文号 such as 高政办字〔2022〕26号; agencies also type the brackets as [] ［］ 【】 or （）
DOC_NUMBER = re.compile(r"[\u4e00-\u9fa5]{1,10}[〔\[［【（(]\s*\d{4}\s*[〕\]］】）)]\s*第?\s*\d+\s*号")
_DOC_NUMBER_LINE = re.compile(
    rf"(?:(?:文号|发文字号|文件编号)\s*[:：]?\s*)?(?P<number>{DOC_NUMBER.pattern})\s*[。，,]?"
)
_CJK = r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]"
_CJK_GAP = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")
_SPACES = re.compile(r"\s+")
_LEADING_TITLE_END = re.compile(r"[\s。]")
HEAD_LINES = 12  # a 文号 sits in a document's header, never deep in its body
TITLE_LIMIT = 60


def doc_number_of(line: str) -> str:
    """The 文号 when a line consists of one (optionally labelled 文号：), else ''."""
    match = _DOC_NUMBER_LINE.fullmatch(line.strip())
    return _SPACES.sub("", match["number"]) if match else ""


def sniff_doc_number(lines: list[str]) -> str:
    """The 文号 standing on its own line near the top, so citations of other documents are ignored."""
    for line in [line for line in lines if line.strip()][:HEAD_LINES]:
        number = doc_number_of(line)
        if number:
            return number
    return ""


def clean_title(text: str) -> str:
    """Join a title broken over lines and drop the spaces typeset between Chinese characters (通 知)."""
    return _CJK_GAP.sub("", _SPACES.sub(" ", text).strip())


def is_title_line(line: str) -> bool:
    """Whether a line could be a title rather than a 文号 or a date."""
    text = line.strip()
    return bool(text) and not doc_number_of(text) and not is_date_line(text)


def sniff_title(lines: list[str]) -> str:
    """The first line that is neither a 文号 nor a date, capped at a title's length."""
    for line in lines:
        if is_title_line(line):
            return clean_title(line)[:TITLE_LIMIT]
    return ""


def leading_title(text: str) -> str:
    """Text up to the first space or 。, as in records that run title and body together."""
    stripped = text.strip()
    match = _LEADING_TITLE_END.search(stripped)
    head = stripped[: match.start()] if match else stripped
    return head[:TITLE_LIMIT]
