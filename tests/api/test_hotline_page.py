"""The hotline operator console (/hotline) in real Chromium, against the real app over the sample knowledge base.

The app is ``hotline_api`` of tests/api/conftest.py, which test_hotline.py serves too (real model, classifier,
past cases, SQLite calls and work orders); a loopback client is the operator while POLICY_HOTLINE__API_KEY is
empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from ..hotline.test_questions import THREE_QUESTIONS
from .conftest import RunningApi
from .pages import SCREENSHOTS, axe_findings, needs_chromium

pytestmark = needs_chromium

TIMEOUT_MS = 60_000  # a call's analysis on a busy 2-core machine
PHONE_CALL = THREE_QUESTIONS.replace(
    "市民：没有了，谢谢。", "市民：没有了。我叫李红，电话是一三九零零一二三四五六，谢谢。"
)
FULL_PHONE = "13900123456"


def open_console(browser: Browser, api: RunningApi, width: int = 1440, height: int = 900) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=api.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{api.url}/hotline")
    return page


@pytest.fixture
def console(browser: Browser, hotline_api: RunningApi) -> Iterator[Page]:
    page = open_console(browser, hotline_api)
    yield page
    page.context.close()


def analyse(page: Page, transcript: str) -> None:
    page.get_by_label(re.compile("^转写文本")).fill(transcript)
    page.get_by_role("button", name="分析通话").click()


def test_a_pasted_call_shows_its_questions_answers_sources_and_a_draft_that_saves(
    console: Page,
    hotline_api: RunningApi,
) -> None:
    analyse(console, PHONE_CALL)

    cards = console.locator("#questions > li.question")
    expect(cards).to_have_count(3)
    expect(cards.locator(".question-text")).to_have_text(
        ["青禾县的一次性创业补贴怎么申请？", "青禾县一次性创业补贴需要什么材料呢？", "青禾县创业担保贷款最高能贷多少？"]
    )
    loan = cards.nth(2)
    expect(loan.locator(".answer-text")).to_contain_text("30万元")
    expect(loan.locator(".confidence")).to_contain_text("置信度")
    # each question's sources as the API gives them: title, 文号, 发文机关, date and validity, all in view
    api_questions = httpx.post(
        f"{hotline_api.url}/api/hotline/assist", json={"transcript": PHONE_CALL}, timeout=60
    ).json()["questions"]
    for card, asked in zip(cards.all(), api_questions, strict=True):
        cited = asked["citations"][0]
        shown = card.locator(".citation").first
        expect(shown.locator(".citation-title")).to_contain_text(cited["title"].strip("《》"))
        expect(shown.locator("dd")).to_have_text(
            [cited["doc_number"] or "—", cited["issuer"] or "—", cited["date"] or "—"]
        )
        expect(shown.locator(".badge")).to_have_text(cited["validity"])
    expect(loan.locator(".citation .citation-title").first).to_contain_text("创业担保贷款")
    # an answer over 140 characters shows four lines until expanded, so all questions fit on the screen
    for card, asked in zip(cards.all(), api_questions, strict=True):
        expect(card.get_by_role("button", name="展开全文")).to_have_count(1 if len(asked["answer"]) > 140 else 0)
    long_cards = [card for card, asked in zip(cards.all(), api_questions, strict=True) if len(asked["answer"]) > 140]
    for long_answer in long_cards[:1]:
        expand = long_answer.get_by_role("button", name="展开全文")
        expect(expand).to_have_attribute("aria-expanded", "false")
        text = long_answer.locator(".answer-text")
        assert text.evaluate("p => p.scrollHeight > p.clientHeight")  # clamped
        expand.click()
        expect(long_answer.get_by_role("button", name="收起")).to_have_attribute("aria-expanded", "true")
        assert text.evaluate("p => p.scrollHeight <= p.clientHeight")
    expect(console.locator("#cls-type")).to_have_text("咨询")
    expect(console.locator("#cases > li")).to_have_count(3)  # the past cases the app imported
    expect(console.locator("#cases > li").first.locator(".case-dept")).not_to_be_empty()
    expect(console.locator("#turns-summary")).to_contain_text("轮")

    # one click copies the answer with its source
    loan.get_by_role("button", name=re.compile("复制")).click()
    expect(loan.get_by_role("button", name=re.compile("复制"))).to_have_text("已复制")
    copied = console.evaluate("() => navigator.clipboard.readText()")
    answer = loan.locator(".answer-text").inner_text()
    assert copied.startswith(answer) and "依据：《" in copied and "现行有效" in copied

    # the draft: the operator sees the full callback number, edits the draft and saves it
    expect(console.get_by_label("联系电话", exact=True)).to_have_value(FULL_PHONE)
    expect(console.get_by_label("来电人", exact=True)).to_have_value("李红")
    expect(console.get_by_label("地点", exact=True)).to_have_value("青禾县")
    expect(console.get_by_label("诉求摘要", exact=True)).to_have_value(re.compile("创业担保贷款"))
    expect(console.get_by_label("已答复内容", exact=True)).to_have_value(re.compile("30万元"))
    expect(console.get_by_label("来电时间", exact=True)).to_have_value(re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"))
    console.get_by_label("来电人", exact=True).fill("李红女士")
    console.get_by_label("诉求摘要", exact=True).fill("咨询一次性创业补贴的申请方式和材料，以及创业担保贷款额度。")
    console.get_by_label("诉求类型", exact=True).select_option("求助")
    console.get_by_role("button", name="保存工单").click()

    result = console.locator("#order-result")
    expect(result).to_contain_text("工单已保存，工单号：")
    number = re.search(r"工单号：(\S+?)（", result.inner_text())
    assert number, result.inner_text()
    listed = httpx.get(f"{hotline_api.url}/api/hotline/workorders", timeout=30).json()["work_orders"]
    saved = next(o for o in listed if o["number"] == number[1])
    assert saved["work_order"]["来电人"] == "李红女士"
    assert saved["work_order"]["诉求类型"] == "求助"
    assert saved["work_order"]["诉求摘要"].startswith("咨询一次性创业补贴")
    assert saved["work_order"]["联系电话"] == FULL_PHONE

    # saving the same draft again does not make a second order
    console.get_by_role("button", name="保存工单").click()
    expect(result).to_contain_text(f"此前已保存，工单号：{number[1]}")


def test_copy_works_without_the_clipboard_api(browser: Browser, hotline_api: RunningApi) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    # an old browser or an http:// intranet page: no navigator.clipboard; record what the copy command copies
    context.add_init_script(
        "Object.defineProperty(navigator, 'clipboard', {value: undefined});"
        "document.addEventListener('copy', () => { window.copiedText = String(document.getSelection()) ||"
        " (document.activeElement && document.activeElement.value) || ''; });"
    )
    page = context.new_page()
    try:
        page.goto(f"{hotline_api.url}/hotline")
        analyse(page, "市民：我想问一下创业担保贷款最高能贷多少？")
        card = page.locator("#questions > li.question").first
        expect(card.locator(".answer-text")).to_contain_text("30万元")
        card.get_by_role("button", name=re.compile("复制")).click()
        expect(card.get_by_role("button", name=re.compile("复制"))).to_have_text("已复制")
        assert "30万元" in page.evaluate("() => window.copiedText")
        expect(page.locator("#toast")).to_have_text("答复已复制到剪贴板")
    finally:
        context.close()


def test_a_live_call_updates_its_suggestions_as_segments_arrive(console: Page, hotline_api: RunningApi) -> None:
    tab = console.get_by_role("tab", name="粘贴整段")
    tab.focus()
    console.keyboard.press("ArrowRight")  # the tabs follow the ARIA pattern: arrows move between them
    expect(console.get_by_role("tab", name="实时通话")).to_have_attribute("aria-selected", "true")
    console.get_by_role("button", name="开始通话").click()
    expect(console.locator("#call-state")).to_have_text("通话中")
    call_id = console.locator("#call-id").inner_text()
    assert re.fullmatch(r"[a-f0-9]{32}", call_id)

    # segments typed by the operator are posted one by one
    box = console.get_by_label("转写片段", exact=True)
    expect(box).to_be_focused()
    console.get_by_label("说话人", exact=True).select_option("坐席")
    box.fill("您好，12345热线，请问有什么可以帮您？")
    box.press("Enter")
    console.get_by_label("说话人", exact=True).select_option("市民")
    box.fill("我想问一下，青禾县的一次性创业补贴怎么申请？")
    box.press("Enter")
    expect(console.locator("#segments > li")).to_have_count(2)
    expect(console.locator("#questions > li.question")).to_have_count(1)
    expect(console.locator("#questions .question-text").first).to_contain_text("一次性创业补贴")

    # segments the ASR system posts reach the console only through the server-sent events
    url = f"{hotline_api.url}/api/hotline/calls/{call_id}/segments"
    segment = {"transcript": [{"speaker": "市民", "text": "还有就是创业担保贷款最高能贷多少？"}]}
    httpx.post(url, json=segment, timeout=60).raise_for_status()
    cards = console.locator("#questions > li.question")
    expect(cards).to_have_count(2)
    expect(cards.nth(1).locator(".answer-text")).to_contain_text("30万元")
    expect(console.get_by_label("诉求摘要", exact=True)).to_have_value(re.compile("创业担保贷款"))

    # an edit the operator made survives the next update; closing the call finalises the draft
    console.get_by_label("地点", exact=True).fill("青禾县柳溪镇")
    phone = {"transcript": [{"speaker": "市民", "text": "我电话是幺三八零零一二三四五六。"}]}
    httpx.post(url, json=phone, timeout=60).raise_for_status()
    expect(console.get_by_label("联系电话", exact=True)).to_have_value("13800123456")
    expect(console.get_by_label("地点", exact=True)).to_have_value("青禾县柳溪镇")
    console.get_by_role("button", name="结束通话").click()
    expect(console.locator("#call-state")).to_have_text("通话已结束")
    expect(console.get_by_label("转写片段", exact=True)).to_be_disabled()
    console.get_by_role("button", name="保存工单").click()
    expect(console.locator("#order-result")).to_contain_text("工单号：")
    call = httpx.get(f"{hotline_api.url}/api/hotline/calls/{call_id}", timeout=30).json()
    assert call["status"] == "closed" and call["work_order"]
    assert call["work_order"] in console.locator("#order-result").inner_text()


def test_keyboard_only_use_and_errors_in_chinese(console: Page) -> None:
    for _ in range(12):
        if console.evaluate("() => document.activeElement && document.activeElement.id") == "transcript":
            break
        console.keyboard.press("Tab")
    box = console.get_by_label(re.compile("^转写文本"))
    expect(box).to_be_focused()
    assert console.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"

    console.keyboard.press("Control+Enter")  # empty: the server's message, in Chinese, and focus stays
    expect(console.get_by_role("alert")).to_have_text("转写文本为空，或没有可识别的文字。")
    expect(box).to_be_focused()

    console.keyboard.type("市民：我想问一下创业担保贷款最高能贷多少？")
    console.keyboard.press("Control+Enter")
    expect(console.locator("#questions > li.question")).to_have_count(1)
    expect(console.get_by_role("alert")).to_be_hidden()
    expect(console.get_by_role("heading", name="来电诉求与答复建议")).to_be_focused()
    console.keyboard.press("Tab")  # from the results heading, the first thing reached is the source link or copy
    for _ in range(6):
        if console.evaluate("() => document.activeElement.textContent") == "复制答复":
            break
        console.keyboard.press("Tab")
    console.keyboard.press("Enter")
    expect(console.locator("#questions .copy").first).to_have_text("已复制")


def test_no_serious_accessibility_finding_and_a_screenshot(console: Page) -> None:
    assert axe_findings(console) == []  # the empty console
    analyse(console, PHONE_CALL)
    expect(console.locator("#questions > li.question")).to_have_count(3)
    console.locator("#turns summary").click()
    assert axe_findings(console) == []  # with answers, sources, cases and the draft
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    console.screenshot(path=str(SCREENSHOTS / "hotline.png"))


@pytest.mark.parametrize(("width", "height"), [(390, 844), (360, 640)])
def test_phone_screen_has_no_horizontal_scroll(
    browser: Browser,
    hotline_api: RunningApi,
    width: int,
    height: int,
) -> None:
    page = open_console(browser, hotline_api, width, height)
    try:
        analyse(page, PHONE_CALL)
        expect(page.locator("#questions > li.question")).to_have_count(3)
        overflow = page.evaluate(
            "() => [document.documentElement.scrollWidth - document.documentElement.clientWidth,"
            " ...[...document.querySelectorAll('.panel')].map(p => p.scrollWidth - p.clientWidth)]"
        )
        assert set(overflow) == {0}
        expect(page.get_by_role("button", name="分析通话")).to_be_visible()
        page.get_by_role("button", name="保存工单").scroll_into_view_if_needed()
        expect(page.get_by_role("button", name="保存工单")).to_be_in_viewport()
        if width == 390:
            page.screenshot(path=str(SCREENSHOTS / "hotline-phone.png"), full_page=True)
    finally:
        page.context.close()


def test_an_amended_policy_is_flagged_with_what_replaced_it(console: Page) -> None:
    # the 2022 measures were partly amended in 2025 (knowledge/sample/policy-affordable-rental-housing-*.md)
    analyse(console, "市民：我想问一下，保障性租赁住房管理办法（试行）还有效吗？")

    card = console.locator("#questions > li.question").first
    amended = card.locator(".citation", has_text="青政办发〔2022〕18号")
    expect(amended.locator(".badge")).to_have_text("已修改")
    expect(amended.locator(".citation-warning")).to_contain_text("注意：该文件已修改")
    expect(amended.locator(".badge")).to_have_class(re.compile(r"\bbadge-amended\b"))
