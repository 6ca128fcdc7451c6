"""The web chat page in real Chromium, against the real app, Rasa and action servers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from .conftest import RunningApi
from .pages import SCREENSHOTS, needs_chromium

pytestmark = needs_chromium

SCREENSHOT = SCREENSHOTS / "chat.png"
ANSWER_TIMEOUT_MS = 60_000  # a Rasa turn on a busy 2-core machine
LOAN_QUESTION = "个人创业担保贷款最高能贷多少？"


def open_chat(browser: Browser, api: RunningApi, width: int = 1024, height: int = 768) -> Page:
    """A fresh tab (own sessionStorage, so its own session) on the chat page."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.set_default_timeout(ANSWER_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{api.url}/")
    return page


@pytest.fixture
def chat(browser: Browser, chat_api: RunningApi) -> Iterator[Page]:
    page = open_chat(browser, chat_api)
    yield page
    page.context.close()


def ask(page: Page, text: str) -> None:
    box = page.get_by_label("请输入您的问题")
    box.fill(text)
    box.press("Enter")


def bot_replies(page: Page) -> Locator:
    return page.locator("#log .msg.bot:not(.pending)")


def test_question_shows_answer_citation_cards_and_takes_feedback(chat: Page) -> None:
    ask(chat, LOAN_QUESTION)

    expect(chat.locator("#log .msg.user").last).to_have_text(LOAN_QUESTION)
    answer = bot_replies(chat).nth(1)
    expect(answer).to_contain_text("30万元", timeout=ANSWER_TIMEOUT_MS)
    expect(chat.get_by_label("请输入您的问题")).to_have_value("")
    card = answer.locator(".citation", has_text="青人社发〔2023〕9号")
    expect(card.locator("dt", has_text="文号")).to_be_visible()
    expect(card.locator("dd", has_text="青人社发〔2023〕9号")).to_be_visible()
    expect(card.locator(".badge")).to_have_text("现行有效")
    expect(card.locator(".badge")).to_have_class(re.compile(r"\bbadge-valid\b"))
    link = card.get_by_role("link", name=re.compile("查看原文"))
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    expect(link).to_have_attribute("href", re.compile(r"^https?://"))

    answer.get_by_role("button", name="有用").click()

    expect(bot_replies(chat).nth(2)).to_contain_text("感谢您的反馈")
    expect(answer.get_by_role("button", name="有用")).to_be_disabled()
    expect(answer.get_by_role("button", name="没用")).to_be_disabled()
    expect(answer.get_by_role("button", name="有用")).to_have_attribute("aria-pressed", "true")
    expect(chat.get_by_label("请输入您的问题")).to_be_focused()


def test_clarification_button_sends_its_payload_and_shows_its_title(chat: Page) -> None:
    # On the sample knowledge base this question fits two subsidy policies equally well (see knowledge/clarify.py)
    ask(chat, "创业补贴怎么申请")

    question = bot_replies(chat).nth(1)
    expect(question).to_contain_text("哪一项", timeout=ANSWER_TIMEOUT_MS)
    choices = question.locator("button.choice")
    expect(choices).to_have_count(2)
    choice = question.get_by_role("button", name="《青禾县大学生创业补贴实施办法》")

    choice.click()

    expect(chat.locator("#log .msg.user").last).to_have_text("《青禾县大学生创业补贴实施办法》")
    answer = bot_replies(chat).nth(2)
    expect(answer).to_contain_text("大学生创业补贴", timeout=ANSWER_TIMEOUT_MS)
    expect(answer.locator(".citation dd", has_text="青人社发〔2024〕15号")).to_be_visible()
    expect(choices.first).to_be_disabled()
    expect(chat.locator("#log")).not_to_contain_text("/choose_document")


def test_amended_policy_gets_an_amber_badge_and_a_link_to_the_current_rules(chat: Page) -> None:
    # The 2022 measures were partly amended in 2025 (knowledge/sample/policy-affordable-rental-housing-*.md)
    ask(chat, "保障性租赁住房管理办法（试行）还有效吗？")

    answer = bot_replies(chat).nth(1)
    expect(answer).to_contain_text("注意：", timeout=ANSWER_TIMEOUT_MS)  # the status warning stays in the text
    amended = answer.locator(".citation", has_text="青政办发〔2022〕18号").locator(".badge")
    current = answer.locator(".citation", has_text="青政办发〔2025〕7号").locator(".badge")
    expect(amended).to_have_text("已修改")
    expect(amended).to_have_class(re.compile(r"\bbadge-amended\b"))
    expect(current).to_have_text("现行有效")
    colours = [badge.evaluate("b => getComputedStyle(b).backgroundColor") for badge in (amended, current)]
    assert colours[0] != colours[1]

    answer.get_by_role("button", name="查看现行规定").click()

    expect(chat.locator("#log .msg.user").last).to_have_text("查看现行规定")
    expect(bot_replies(chat).nth(2).locator(".citation dd", has_text="青政办发〔2025〕7号")).to_be_visible()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (360, 640)])
def test_phone_screen_has_no_horizontal_scroll(browser: Browser, chat_api: RunningApi, width: int, height: int) -> None:
    page = open_chat(browser, chat_api, width, height)
    try:
        ask(page, LOAN_QUESTION)
        expect(bot_replies(page).nth(1).locator(".citation").first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)

        overflow = page.evaluate(
            "() => [document.documentElement.scrollWidth - document.documentElement.clientWidth,"
            " document.body.scrollWidth - document.body.clientWidth,"
            " document.getElementById('main').scrollWidth - document.getElementById('main').clientWidth]"
        )
        assert overflow == [0, 0, 0]
        expect(page.get_by_label("请输入您的问题")).to_be_in_viewport()
        expect(page.get_by_role("button", name="发送")).to_be_in_viewport()
        expect(page.get_by_role("button", name="转人工")).to_be_in_viewport()
        expect(page.get_by_role("link", name="12345")).to_be_in_viewport()
        if (width, height) == (390, 844):
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
    finally:
        page.context.close()


def test_keyboard_only_use(chat: Page) -> None:
    for _ in range(10):
        if chat.evaluate("() => document.activeElement && document.activeElement.id") == "question":
            break
        chat.keyboard.press("Tab")
    box = chat.get_by_label("请输入您的问题")
    expect(box).to_be_focused()
    assert chat.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"

    chat.keyboard.type("我想问低保")
    chat.keyboard.press("Shift+Enter")
    chat.keyboard.type("怎么申请？")
    expect(box).to_have_value("我想问低保\n怎么申请？")
    expect(chat.locator("#log .msg.user")).to_have_count(0)
    chat.keyboard.press("Enter")

    expect(chat.locator("#log .msg.user")).to_have_count(1)
    assert chat.locator("#log .msg.user").inner_text() == "我想问低保\n怎么申请？"  # the line break is kept
    expect(bot_replies(chat).nth(1)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(box).to_be_focused()
    expect(box).to_have_value("")


def test_api_errors_are_shown_in_chinese(chat: Page, chat_api: RunningApi) -> None:
    ask(chat, "   ")
    expect(chat.locator("#log .msg.error").last).to_have_text("消息不能为空。")

    ask(chat, "创" * (chat_api.settings.chat.max_chars + 1))
    expect(chat.locator("#log .msg.error").last).to_contain_text("消息太长了")

    expect(chat.get_by_label("请输入您的问题")).to_be_focused()


def test_network_failure_is_shown_with_the_hotline(chat: Page) -> None:
    chat.route("**/api/chat", lambda route: route.abort("connectionrefused"))

    ask(chat, LOAN_QUESTION)

    expect(chat.locator("#log .msg.error").last).to_contain_text("网络异常，请稍后重试")
    expect(chat.locator("#log .msg.error").last).to_contain_text("12345")
    expect(chat.get_by_role("button", name="发送")).to_be_enabled()


def test_human_button_requests_a_human(chat: Page) -> None:
    chat.get_by_role("button", name="转人工").click()

    expect(chat.locator("#log .msg.user").last).to_have_text("转人工")
    expect(bot_replies(chat).nth(1)).to_contain_text("工单号", timeout=ANSWER_TIMEOUT_MS)
    expect(chat.locator("#log")).not_to_contain_text("/request_human")


def test_session_id_is_kept_for_the_tab(chat: Page) -> None:
    first = chat.evaluate("() => sessionStorage.getItem('policy-chat-session')")
    chat.reload()
    again = chat.evaluate("() => sessionStorage.getItem('policy-chat-session')")

    assert re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", first)
    assert again == first
    expect(chat.locator("#log")).to_have_attribute("aria-live", "polite")
    expect(chat.locator("footer")).to_contain_text("12345")
