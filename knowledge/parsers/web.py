"""HTML pages as Chinese government sites publish them: metas for metadata, block elements as lines."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from knowledge.parsers.dates import parse_date
from knowledge.parsers.fields import split_tags
from knowledge.parsers.plain import document_from_lines
from knowledge.parsers.result import ParsedFile
from knowledge.parsers.sniffing import TITLE_LIMIT, clean_title

# not <form>: ASP.NET pages wrap the whole page, article included, in one
_CHROME = ["script", "style", "noscript", "template", "nav", "header", "footer", "iframe"]
_BLOCKS = "p div section article main aside li tr table blockquote h1 h2 h3 h4 h5 h6 pre dt dd ul ol center".split()
# content containers of common government CMSs (TRS, UCAP), tried before the whole <body>
_CONTENT = ["#UCAP-CONTENT", ".TRS_Editor", "#zoom", ".pages_content", "article", "main"]
_BREAK = "\u2029"  # paragraph separator: survives whitespace folding, becomes a newline later
_FOLD = re.compile(r"[ \t\r\n\f\xa0]+")
_SITE_SUFFIX = re.compile(r"\s*(?:[_|｜]|\s-\s).*$")
_PUBLISHED_METAS = ("pubdate", "publishdate", "firstpublishedtime", "article:published_time")


def _metas(soup: BeautifulSoup) -> dict[str, str]:
    """<meta name|property=… content=…> pairs, names lower-cased."""
    metas: dict[str, str] = {}
    for meta in soup.find_all("meta"):
        name = meta.get("name") or meta.get("property")
        content = meta.get("content")
        if isinstance(name, str) and isinstance(content, str) and content.strip():
            metas.setdefault(name.strip().lower(), content.strip())
    return metas


def _content_root(soup: BeautifulSoup) -> Tag | BeautifulSoup:
    """The article container when the page has a known one, else <body>."""
    for selector in _CONTENT:
        found = soup.select_one(selector)
        if found is not None and found.get_text(strip=True):
            return found
    return soup.body or soup


def _lines(root: Tag | BeautifulSoup) -> list[str]:
    """Visible text with every block element on its own line and table cells spaced apart."""
    for br in root.find_all("br"):
        br.replace_with(_BREAK)
    for cell in root.find_all(["td", "th"]):
        cell.insert_after(" ")
    for block in root.find_all(_BLOCKS):
        block.insert_before(_BREAK)
        block.insert_after(_BREAK)
    text = _FOLD.sub(" ", root.get_text())
    return [line.strip() for line in text.split(_BREAK) if line.strip()]


def _title(soup: BeautifulSoup, metas: dict[str, str]) -> str:
    """ArticleTitle meta, then <h1>, then <title> without the site name after _ or |."""
    h1 = soup.find("h1")
    candidates = [metas.get("articletitle", ""), h1.get_text(" ", strip=True) if h1 else ""]
    if soup.title is not None:
        candidates.append(_SITE_SUFFIX.sub("", soup.title.get_text(" ", strip=True)))
    for candidate in candidates:
        if candidate.strip():
            return clean_title(candidate)[:TITLE_LIMIT]
    return ""


def _published(metas: dict[str, str], problems: list[str]) -> date | None:
    """The PubDate-style meta as a date; an unreadable one is reported, not fatal."""
    value = next((metas[name] for name in _PUBLISHED_METAS if name in metas), "")
    try:
        return parse_date(value)
    except ValueError as error:
        problems.append(f"发布日期：{error}")
        return None


def _source_url(soup: BeautifulSoup, metas: dict[str, str]) -> str:
    """The canonical link or the Url meta."""
    link = soup.find("link", rel="canonical")
    href = link.get("href") if link is not None else None
    return href.strip() if isinstance(href, str) else metas.get("url", "")


def parse_html(path: Path, text: str) -> ParsedFile:
    """One document from an HTML page; site chrome (nav, header, footer, scripts) is dropped."""
    soup = BeautifulSoup(text, "lxml")
    metas = _metas(soup)
    for tag in soup.find_all(_CHROME):
        tag.decompose()
    problems: list[str] = []
    title = _title(soup, metas)
    document = document_from_lines(path, _lines(_content_root(soup)), title)
    document = replace(
        document,
        issuer=metas.get("contentsource", ""),
        published_date=_published(metas, problems),
        source_url=_source_url(soup, metas),
        tags=split_tags(metas.get("keywords", "")),
    )
    return ParsedFile(str(path), (document,), tuple(problems))
