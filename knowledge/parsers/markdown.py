"""Markdown files: YAML front matter for metadata, markdown-it for the text of the body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import frontmatter
import yaml
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from markdown_it.token import Token

from knowledge.errors import IngestError
from knowledge.parsers.dates import find_date_line
from knowledge.parsers.fields import build_document, canonical_fields, stem_id
from knowledge.parsers.result import ParsedFile
from knowledge.parsers.sniffing import TITLE_LIMIT, clean_title, is_title_line, sniff_doc_number, sniff_title

_LINE_BREAKS = ("softbreak", "hardbreak")
_TITLE_BLOCKS = 8  # a notice's title sits in its header, before the first few blocks


@dataclass(frozen=True)
class _Block:
    """One rendered block: its plain text and whether it was a heading or a wholly bold paragraph."""

    text: str
    titled: bool = False


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


def _inline_text(children: Sequence[Token]) -> str:
    """Plain text of an inline token: emphasis and link markup dropped, line breaks kept."""
    parts = []
    for child in children:
        if child.type in ("text", "code_inline", "image"):
            parts.append(child.content)
        elif child.type in _LINE_BREAKS:
            parts.append("\n")
    return "\n".join(line.strip() for line in "".join(parts).split("\n")).strip()


def _is_bold(children: Sequence[Token]) -> bool:
    """Whether a paragraph is bold from end to end, as a notice title typed in Markdown is."""
    marks = [child for child in children if not (child.type == "text" and not child.content.strip())]
    return len(marks) > 2 and marks[0].type == "strong_open" and marks[-1].type == "strong_close"


def _render(content: str) -> list[_Block]:
    """Blocks of plain text; headings stay on their own lines and list numbers stay in front."""
    blocks: list[_Block] = []
    cells: list[str] = []
    prefix = ""
    tokens = _markdown().parse(content)
    for index, token in enumerate(tokens):
        if token.type == "list_item_open" and token.info:
            prefix = f"{token.info}{token.markup} "  # ordered items: "1. " heads the chunker sees
        elif token.type == "inline":
            opener = tokens[index - 1].type
            text = _inline_text(token.children or [])
            if opener in ("th_open", "td_open"):
                cells.append(text)
            elif text:
                titled = opener == "heading_open" or _is_bold(token.children or [])
                blocks.append(_Block(prefix + text, titled))
            prefix = ""
        elif token.type == "tr_close":
            blocks.append(_Block(" ".join(cell for cell in cells if cell)))
            cells = []
        elif token.type in ("fence", "code_block"):
            blocks.append(_Block(token.content.strip("\n")))
        elif token.type == "html_block":
            blocks.append(_Block(BeautifulSoup(token.content, "lxml").get_text("\n").strip()))
    return [block for block in blocks if block.text]


def _title_of(blocks: list[_Block]) -> str:
    """The notice title (a bold paragraph) or first heading near the top, else the first line."""
    for block in blocks[:_TITLE_BLOCKS]:
        if block.titled and is_title_line(block.text):
            return clean_title(block.text)[:TITLE_LIMIT]
    return sniff_title([line for block in blocks for line in block.text.split("\n")])


def _load(path: Path, text: str) -> frontmatter.Post:
    """Split front matter from the body; a broken YAML header fails the file."""
    try:
        return frontmatter.loads(text)
    except yaml.YAMLError as error:
        raise IngestError(str(path), f"文件头部元数据（front matter）无法解析：{error}") from None


def parse_markdown(path: Path, text: str, today: date) -> ParsedFile:
    """One document: metadata from front matter, missing title, 文号 and date sniffed from the body."""
    post = _load(path, text)
    fields, unknown = canonical_fields(post.metadata)
    blocks = _render(post.content)
    body = "\n".join(block.text for block in blocks)
    if not body.strip():
        raise IngestError(str(path), "文件为空：没有正文")
    lines = body.split("\n")
    fields["body"] = body
    fields["id"] = fields.get("id") or stem_id(path)
    fields["title"] = fields.get("title") or _title_of(blocks)
    fields["doc_number"] = fields.get("doc_number") or sniff_doc_number(lines)
    fields["written_date"] = fields.get("written_date") or find_date_line(lines)
    try:
        document = build_document(fields, source_path=str(path), today=today)
    except ValueError as error:
        raise IngestError(str(path), str(error)) from None
    problems = tuple(f"未识别的元数据字段已忽略：{key}" for key in unknown)
    return ParsedFile(str(path), (document,), problems)
