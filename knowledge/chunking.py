"""Chunking that understands official documents: 一、/（一）/1./第X条 headings, Q&A pairs, sentence ends."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .document import QA_MARK, Chunk, Document
from .text import split_sentences

# bump when chunk boundaries or texts change: an index chunked by another version is refused until reindexed
# (5: a section's paragraphs and a Q&A answer's paragraphs are joined by a line break, not run together)
CHUNKER_VERSION = 5
_CN_NUM = "一二三四五六七八九十百零〇两"
# (level, pattern) for heading markers at the start of a paragraph
_HEADINGS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (0, re.compile(rf"^第[{_CN_NUM}\d]+[章节]")),
    (1, re.compile(rf"^[{_CN_NUM}]+、")),
    (2, re.compile(rf"^[（(][{_CN_NUM}]+[）)]")),
    (1, re.compile(rf"^第[{_CN_NUM}\d]+条")),  # an article holds its items (（一）…) as 一、 does
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
    level: int = -1  # of the heading that opens it; -1 for the text before the first heading
    titled: bool = False  # its first sentence is a title line, which stays with the sentence after it


def _lines(paragraph: str) -> list[str]:
    """A paragraph's sentences, the last one ending its line: paragraphs joined again stay apart, so a
    quoted list keeps one item a line and a contact entry one field a line."""
    sentences = split_sentences(paragraph)
    if sentences:
        sentences[-1] += "\n"
    return sentences


def heading_of(paragraph: str) -> tuple[int, str, str] | None:
    """(level, heading, rest) when the paragraph starts with a heading marker, else None.

    The heading is what a reader would call the item's title: up to the first sentence end, colon or
    space, at most 40 characters after the marker; ``rest`` is what follows it.
    """
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


def _is_title_line(paragraph: str, heading: str, rest: str) -> bool:
    """Whether the heading is a title set apart from its text ("一、支持物资供应 对生产企业…" or a line of
    its own), rather than the opening words of a sentence ("（一）年龄在18周岁以上；", a 40-character
    cut of "一、任何单位、组织和个人，应当…", or "（二）受理举报的部门应对举报人信息严格保密。…")."""
    follows = paragraph[len(heading) :]
    return not follows or (follows[:1].isspace() and bool(rest) and not _ARTICLE.match(heading))


def _paragraphs(body: str) -> list[str]:
    text = _INLINE_HEADING.sub("\n", body)
    return [p.strip() for p in text.splitlines() if p.strip()]


def opens_question(paragraph: str) -> bool:
    """Whether a paragraph of a source text opens a Q&A pair's question (问：, 問：, Q:, 提问：)."""
    return bool(_QUESTION.match(paragraph))


def _qa_pairs(paragraphs: list[str]) -> list[tuple[str, str]] | None:
    """Question–answer pairs when the text is written 问：…/答：…, else None."""
    if not any(opens_question(p) for p in paragraphs) or not any(_ANSWER.match(p) for p in paragraphs):
        return None
    pairs: list[tuple[str, list[str]]] = []
    for paragraph in paragraphs:
        if opens_question(paragraph):
            pairs.append((_QUESTION.sub("", paragraph), []))
        elif pairs:
            pairs[-1][1].append(_ANSWER.sub("", paragraph))
    return [(q, "\n".join(a)) for q, a in pairs if a]


def _sections(paragraphs: list[str]) -> list[_Section]:
    """Sections under their heading paths; each one's text opens with its heading, so a quoted answer
    can hold the item it comes from ("（一）年满18周岁。", "第十条 申请人应提交以下材料：…")."""
    stack: list[tuple[int, str]] = []
    sections = [_Section((), [])]
    titles_only: set[int] = set()  # sections holding nothing but their title line
    for paragraph in paragraphs:
        found = heading_of(paragraph)
        if found:
            level, heading, rest = found
            stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, heading)]
            sections.append(_Section(tuple(h for _, h in stack), [], level))
            if _is_title_line(paragraph, heading, rest):
                # a title line keeps a line break after it; alone it is no content (its children carry it)
                sections[-1].sentences.append(heading + "\n")
                sections[-1].titled = True
                titles_only.add(len(sections) - 1)
                paragraph = rest
        if paragraph:
            titles_only.discard(len(sections) - 1)
        sections[-1].sentences.extend(_lines(paragraph))
    return [s for i, s in enumerate(sections) if s.sentences and i not in titles_only]


def _pack(sentences: list[str], limit: int, titled: bool = False) -> list[str]:
    """Greedily pack sentences into pieces of about ``limit`` characters; overlong ones are cut. A title
    line (``titled``: the first sentence) stays with the sentence after it."""
    pieces: list[str] = []
    current = ""
    for i, sentence in enumerate(sentences):
        while len(sentence) > limit * 2:
            pieces.extend([current] if current else [])
            current, pieces = "", pieces + [sentence[:limit]]
            sentence = sentence[limit:]
        if current and len(current) + len(sentence) > limit and not (titled and i == 1):
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return [piece.rstrip("\n") for piece in pieces]


def _common_path(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The headings every path starts with."""
    common = paths[0]
    for path in paths[1:]:
        size = 0
        while size < min(len(common), len(path)) and common[size] == path[size]:
            size += 1
        common = common[:size]
    return common


def _pack_sections(sections: list[_Section], limit: int) -> list[tuple[tuple[str, ...], str]]:
    """Chapters, articles and parts (第X章, 第X条, 一、) each open a chunk; the items (（一）, 1.) of one
    of them are packed together while they fit in ``limit`` characters, under the heading path they
    share, so that "（二）在本县登记失业；" makes no chunk of its own. Items under no heading ("（一）谁能领。…"
    after an introduction) stay apart. A longer section is split at sentence ends."""
    pieces: list[tuple[tuple[str, ...], str]] = []
    texts: list[str] = []
    paths: list[tuple[str, ...]] = []

    def flush() -> None:
        if texts:
            pieces.append((_common_path(paths), "\n".join(texts)))
        texts.clear()
        paths.clear()

    for section in sections:
        text = "".join(section.sentences).rstrip("\n")
        alone = section.level <= 1 or not _common_path([*paths, section.path])  # no heading shared with the chunk
        if texts and (alone or sum(map(len, texts)) + len(text) > limit):
            flush()
        if len(text) > limit:
            pieces.extend((section.path, piece) for piece in _pack(section.sentences, limit, section.titled))
            continue
        texts.append(text)
        paths.append(section.path)
    flush()
    return pieces


def chunk_document(doc: Document, chunk_chars: int = 300) -> list[Chunk]:
    """Split a document into chunks with stable ids, each carrying its title and heading path."""
    paragraphs = _paragraphs(doc.body)
    pieces: list[tuple[tuple[str, ...], str]] = []
    pairs = _qa_pairs(paragraphs)
    if pairs:
        for question, answer in pairs:
            for part in _pack([s for paragraph in answer.splitlines() for s in _lines(paragraph)], chunk_chars * 3):
                pieces.append(((question,), f"{QA_MARK}{question}\n答：{part}"))
    else:
        pieces = _pack_sections(_sections(paragraphs), chunk_chars)
    return [
        Chunk(id=Chunk.make_id(doc.id, i), doc_id=doc.id, position=i, text=text, title=doc.title, heading_path=path)
        for i, (path, text) in enumerate(pieces)
    ]
