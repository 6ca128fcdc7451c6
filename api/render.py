"""A ChatReply as a channel shows it: plain text for WeChat, Telegram HTML; citations in each channel's form.

The action server writes its own source lines (出处 / 原文链接 / 所解读的政策) into the answer text; channels
that render the structured citations drop those lines so a source is shown once, in the channel's format.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from knowledge.settings import ServiceSettings

from .assistant import ChatReply

SOURCE_PREFIXES = ("出处：", "原文链接：", "所解读的政策：")
TEMPLATES = Path(__file__).parent / "templates"


def welcome_text(service: ServiceSettings) -> str:
    """What WeChat and Telegram say to a new follower, with the deployment's assistant name and hotline."""
    return (
        f"您好！我是{service.region_name}政策咨询助手。\n"
        "我可以帮您查询就业创业、社保医保、住房公积金、教育入学、农业补贴、社会救助、营商环境等方面的政策文件和办事指南，"
        "回答时会注明依据文件的标题、文号和有效性。\n"
        "请直接输入您的问题，例如：“个人创业担保贷款最高能贷多少？”\n"
        f"需要人工服务，请拨打{service.hotline}（24小时）。"
    )


# channels not yet given the deployment's settings greet with the defaults
WELCOME = welcome_text(ServiceSettings())


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)


def chat_page(service: ServiceSettings) -> str:
    """The web chat page naming the deployment's government and hotline (the script reads data-hotline)."""
    return _templates().get_template("chat.html").render(service=service)


TEXT_ONLY = "抱歉，我目前只能回答文字（或语音）提问，暂时无法识别图片、视频、位置、链接和文件。请用文字描述您的问题。"
VOICE_UNRECOGNISED = "抱歉，没能听清您的语音。请用文字输入您的问题，例如“个人创业担保贷款最高能贷多少？”"


def answer_body(reply: ChatReply) -> str:
    """The answer without the action server's own source lines when structured citations replace them."""
    if not reply.citations:
        return reply.answer.strip()
    lines = [line for line in reply.answer.splitlines() if not line.strip().startswith(SOURCE_PREFIXES)]
    return "\n".join(lines).strip()


def quoted_title(title: str) -> str:
    return title if title.startswith("《") else f"《{title}》"


def citation_line(citation: dict[str, Any]) -> str:
    """《title》 文号 发文机关 date 【validity】, skipping empty fields."""
    validity = str(citation.get("validity") or "")
    parts = [
        quoted_title(str(citation.get("title") or "")),
        str(citation.get("doc_number") or ""),
        str(citation.get("issuer") or ""),
        str(citation.get("date") or ""),
        f"【{validity}】" if validity else "",
    ]
    return " ".join(part for part in parts if part)


def safe_url(citation: dict[str, Any]) -> str:
    """The document's link when it is a web address; anything else (javascript:, data:) is dropped."""
    url = str(citation.get("url") or "").strip()
    return url if url.startswith(("https://", "http://")) else ""


def choice_number(text: str, count: int) -> int | None:
    """A bare number (half- or full-width) choosing one of ``count`` offered buttons, else None."""
    digits = unicodedata.normalize("NFKC", text).strip().rstrip(".。、")
    if not digits.isdigit():
        return None
    number = int(digits)
    return number if 1 <= number <= count else None


def _numbered_in_answer(answer: str, buttons: Sequence[dict[str, str]]) -> bool:
    """Whether the answer already lists the buttons as "1. title", "2. title" in the same order."""
    lines = [line.strip() for line in answer.splitlines()]
    return all(any(line.startswith(f"{n}. {b['title']}") for line in lines) for n, b in enumerate(buttons, 1))


def plain_text(reply: ChatReply, limit_bytes: int) -> str:
    """The reply as WeChat text: answer, buttons as numbered choices, then sources with their links."""
    body = answer_body(reply)
    tail: list[str] = []
    if reply.buttons:
        if _numbered_in_answer(body, reply.buttons):
            tail.append("请回复序号（如“1”）选择。")
        else:
            tail.append("请回复序号选择：")
            tail += [f"{n}. {b['title']}" for n, b in enumerate(reply.buttons, 1)]
    if reply.citations:
        tail += [""] if tail else []
        tail.append("依据文件：")
        for citation in reply.citations:
            tail.append(citation_line(citation))
            if url := safe_url(citation):
                tail.append(f"原文链接：{url}")
    return fit("\n".join(tail), body, limit_bytes)


# what a channel says where it stops quoting: the link to the original comes with the sources below
CUT_MARKER = "……（内容较长，以上为节选，其余内容请查看原文）"


def shorten(body: str, fits: Callable[[str], bool], marker: str = CUT_MARKER) -> str:
    """The longest head of ``body`` that ``fits`` with the marker after it, cut between lines where it can.

    A list or a run of steps (which answers quote whole) keeps whole items: the citizen sees items 1–4 and
    the marker rather than half of item 5. Only when not even the first line fits is a line cut, after the
    last clause mark that fits.
    """
    if fits(body):
        return body
    lines = body.split("\n")
    kept: list[str] = []
    for line in lines:
        if not fits("\n".join([*kept, line]) + marker):
            break
        kept.append(line)
    if kept:  # whole lines: the marker goes on a line of its own (shorter than the ellipsis it replaces)
        head = "\n".join(kept)
        close = "」" if head.count("「") > head.count("」") else ""  # the quote the cut left open
        return head + close + "\n" + marker.lstrip("…")
    first = lines[0]
    size = 0
    while size < len(first) and fits(first[: size + 1] + marker):
        size += 1
    head = first[:size]
    mark = max(head.rfind(c) for c in "，。；、,;")
    return (head[: mark + 1] if mark > size // 2 else head) + marker


def fit(tail: str, body: str, limit_bytes: int) -> str:
    """``body`` then ``tail`` within ``limit_bytes`` of UTF-8; the body is shortened, never the sources."""
    joined = f"{body}\n\n{tail}" if tail and body else body or tail
    if len(joined.encode()) <= limit_bytes:
        return joined
    room = limit_bytes - len(f"\n\n{tail}".encode()) if tail else limit_bytes
    cut = shorten(body, lambda text: len(text.encode()) <= room)
    shortened = f"{cut}\n\n{tail}" if tail else cut
    return shortened.encode()[:limit_bytes].decode(errors="ignore")


def html_text(reply: ChatReply, limit_chars: int) -> str:
    """The reply as Telegram HTML: escaped answer, then each source as a link with its 文号 and validity."""
    lines: list[str] = []
    for citation in reply.citations:
        title = html.escape(quoted_title(str(citation.get("title") or "")), quote=False)
        url = safe_url(citation)
        parts = [f'<a href="{html.escape(url, quote=True)}">{title}</a>' if url else title]
        if citation.get("doc_number"):
            parts.append(html.escape(str(citation["doc_number"]), quote=False))
        if citation.get("validity"):
            parts.append(f"【{html.escape(str(citation['validity']), quote=False)}】")
        lines.append(" ".join(parts))
    tail = "\n".join(["<b>依据文件：</b>", *lines]) if lines else ""
    body = answer_body(reply)
    room = limit_chars - len(tail) - 2
    body = shorten(body, lambda text: len(html.escape(text, quote=False)) <= room)
    escaped = html.escape(body, quote=False)
    return f"{escaped}\n\n{tail}" if tail and escaped else escaped or tail
