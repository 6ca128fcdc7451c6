"""The chat page and the channels' welcome name the deployment's government and hotline from its settings."""

from __future__ import annotations

from api.assistant import ChatReply
from api.render import chat_page, html_text, plain_text, welcome_text
from knowledge.settings import ServiceSettings

OTHER_COUNTY = ServiceSettings(
    hotline_name="市民服务热线", hotline_number="96345", government_name="白河县人民政府", region_name="白河县"
)


def test_chat_page_is_rendered_for_the_deployment() -> None:
    page = chat_page(OTHER_COUNTY)
    assert "<title>白河县政策咨询助手</title>" in page
    assert 'data-hotline="96345市民服务热线"' in page  # what chat.js names in its error messages
    assert 'href="tel:96345"' in page and "依据白河县人民政府公开政策文件作答" in page
    assert "12345" not in page and "青禾" not in page


def test_chat_page_escapes_the_settings() -> None:
    page = chat_page(ServiceSettings(region_name='<script>alert("x")</script>'))
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_welcome_names_the_deployment() -> None:
    text = welcome_text(OTHER_COUNTY)
    assert "白河县政策咨询助手" in text and "96345市民服务热线" in text and "12345" not in text


# -- long answers within a channel's limit ----------------------------------------------------------------

CITATION = {
    "title": "青禾县2026年义务教育学校招生入学工作实施方案",
    "doc_number": "青教体发〔2026〕12号",
    "issuer": "青禾县教育和体育局",
    "date": "2026-05-26",
    "validity": "现行有效",
    "url": "https://www.qinghe.gov.example/zwgk/zcwj/2026/qjtf-2026-12.html",
}
ITEMS = [f"{n}. 第{n}项材料：申请人本人有效身份证件原件及复印件一份，加盖单位公章的证明材料；" for n in range(1, 31)]
LONG_LIST = "「五、所需材料\n" + "\n".join(ITEMS) + "」\n出处：《青禾县2026年义务教育学校招生入学工作实施方案》"


def long_reply() -> ChatReply:
    return ChatReply("t1", LONG_LIST, True, 0.8, citations=[CITATION])


def test_a_long_list_is_cut_between_items_for_wechat_and_points_to_the_original() -> None:
    text = plain_text(long_reply(), 2000)
    assert len(text.encode()) <= 2000
    body, sources = text.split("\n\n依据文件：\n")
    lines = body.splitlines()
    assert lines[0] == "「五、所需材料"
    kept = lines[1:-1]
    assert 3 <= len(kept) < len(ITEMS)
    assert kept[:-1] == ITEMS[: len(kept) - 1] and kept[-1] == ITEMS[len(kept) - 1] + "」"  # whole items, quote closed
    assert lines[-1] == "（内容较长，以上为节选，其余内容请查看原文）"
    assert "原文链接：https://www.qinghe.gov.example/zwgk/zcwj/2026/qjtf-2026-12.html" in sources
    assert "出处：" not in text  # the structured citation replaces the action server's source line


def test_a_list_that_fits_is_shown_whole_with_its_lines() -> None:
    short = "「五、所需材料\n" + "\n".join(ITEMS[:4]) + "」"
    text = plain_text(ChatReply("t2", short, True, 0.8, citations=[CITATION]), 2000)
    assert text.startswith(short + "\n\n依据文件：")
    assert "查看原文" not in text


def test_telegram_keeps_whole_items_within_its_character_limit() -> None:
    text = html_text(long_reply(), 1200)
    assert len(text) <= 1200
    body = text.split("\n\n<b>依据文件：</b>")[0]
    assert body.endswith("\n（内容较长，以上为节选，其余内容请查看原文）")
    assert all(line in ITEMS or line.rstrip("」") in ITEMS for line in body.splitlines()[1:-1])


def test_one_overlong_line_is_cut_after_a_clause() -> None:
    line = "「" + "申请人应当如实提供家庭收入、财产状况等信息，" * 80 + "」"
    text = plain_text(ChatReply("t3", line, True, 0.8, citations=[CITATION]), 2000)
    body = text.split("\n\n依据文件：")[0]
    assert len(text.encode()) <= 2000
    assert body.endswith("，……（内容较长，以上为节选，其余内容请查看原文）")
