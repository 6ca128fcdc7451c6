"""Chunking that understands official documents: 一、/（一）/1./第X条 headings, Q&A pairs, sentence ends."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .document import Chunk, Document
from .text import split_sentences

_CN_NUM = "一二三四五六七八九十百零〇两"
# (level, pattern) for heading markers at the start of a paragraph
_HEADINGS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (0, re.compile(rf"^第[{_CN_NUM}\d]+[章节]")),
    (1, re.compile(rf"^[{_CN_NUM}]+、")),
    (2, re.compile(rf"^[（(][{_CN_NUM}]+[）)]")),
    (2, re.compile(rf"^第[{_CN_NUM}\d]+条")),
    (3, re.compile(r"^\d{1,2}[.．、](?!\d)")),
)
# headings that a flattened text (one line, spaces between paragraphs) carries mid-line
_INLINE_HEADING = re.compile(rf"\s+(?=(?:[{_CN_NUM}]+、|[（(][{_CN_NUM}]+[）)]|第[{_CN_NUM}\d]+[章节条]))")
_QUESTION = re.compile(r"^(?:问|問|Q|提问|提問|问题|問題)\s*[：:]\s*", re.IGNORECASE)
_ANSWER = re.compile(r"^(?:答|A|回答|解答)\s*[：:]\s*", re.IGNORECASE)
_HEADING_MAX = 40
_ARTICLE = re.compile(rf"^第[{_CN_NUM}\d]+条$")
_HEADING_END = re.compile(r"[。：:；;]|\s")


@dataclass
class _Section:
    path: tuple[str, ...]
    sentences: list[str]


def heading_of(paragraph: str) -> tuple[int, str, str] | None:
    """(level, heading, rest) when the paragraph starts with a heading marker, else None."""
    for level, pattern in _HEADINGS:
        marker = pattern.match(paragraph)
        if not marker:
            continue
        if _ARTICLE.match(marker.group()):
            return level, marker.group(), paragraph[marker.end() :].strip()
        start = len(paragraph) - len(paragraph[marker.end() :].lstrip())
        end = _HEADING_END.search(paragraph, start)
        cut = end.start() if end else len(paragraph)
        if level == 3 and (len(paragraph) > 25 or paragraph[-1] in "。；;，,"):
            return None  # a numbered list item, not a heading
        cut = min(cut, marker.end() + _HEADING_MAX)
        return level, paragraph[:cut].strip(), paragraph[cut:].lstrip("。：: \t").strip()
    return None


def _paragraphs(body: str) -> list[str]:
    text = _INLINE_HEADING.sub("\n", body)
    return [p.strip() for p in text.splitlines() if p.strip()]


def _qa_pairs(paragraphs: list[str]) -> list[tuple[str, str]] | None:
    """Question–answer pairs when the text is written 问：…/答：…, else None."""
    if sum(1 for p in paragraphs if _QUESTION.match(p)) < 1 or not any(_ANSWER.match(p) for p in paragraphs):
        return None
    pairs: list[tuple[str, list[str]]] = []
    for paragraph in paragraphs:
        if _QUESTION.match(paragraph):
            pairs.append((_QUESTION.sub("", paragraph), []))
        elif pairs:
            pairs[-1][1].append(_ANSWER.sub("", paragraph))
    return [(q, "\n".join(a)) for q, a in pairs if a]


def _sections(paragraphs: list[str]) -> list[_Section]:
    stack: list[tuple[int, str]] = []
    sections = [_Section((), [])]
    for paragraph in paragraphs:
        found = heading_of(paragraph)
        if found:
            level, heading, rest = found
            stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, heading)]
            sections.append(_Section(tuple(h for _, h in stack), []))
            # a one-sentence item such as "（一）年满18周岁。" is content as well as a heading
            paragraph = rest or (paragraph if paragraph.endswith(("。", "；", ";")) else "")
        sections[-1].sentences.extend(split_sentences(paragraph))
    return [s for s in sections if s.sentences]


def _pack(sentences: list[str], limit: int) -> list[str]:
    """Greedily pack sentences into pieces of about ``limit`` characters; overlong ones are cut."""
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        while len(sentence) > limit * 2:
            pieces.extend([current] if current else [])
            current, pieces = "", pieces + [sentence[:limit]]
            sentence = sentence[limit:]
        if current and len(current) + len(sentence) > limit:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces


def chunk_document(doc: Document, chunk_chars: int = 300) -> list[Chunk]:
    """Split a document into chunks with stable ids, each carrying its title and heading path."""
    paragraphs = _paragraphs(doc.body)
    pieces: list[tuple[tuple[str, ...], str]] = []
    pairs = _qa_pairs(paragraphs)
    if pairs:
        for question, answer in pairs:
            for part in _pack(split_sentences(answer), chunk_chars * 3):
                pieces.append(((question,), f"问：{question}\n答：{part}"))
    else:
        for section in _sections(paragraphs):
            pieces.extend((section.path, text) for text in _pack(section.sentences, chunk_chars))
    return [
        Chunk(id=Chunk.make_id(doc.id, i), doc_id=doc.id, position=i, text=text, title=doc.title, heading_path=path)
        for i, (path, text) in enumerate(pieces)
    ]
