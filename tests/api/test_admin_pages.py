"""The knowledge managers' pages (/admin) in real headless Chromium, over the real app, a private copy of the sample
knowledge base, the real model and index: who may open them, the home counts, the list's filters, a document's
chunks and what the assistant answers from it, editing, retiring, history with diffs, the disclosure findings,
CSRF, phone width and axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from api.accounts import Role
from api.admin_catalogue import PAGE_SIZE
from api.admin_form import values_of
from api.admin_page import today
from knowledge.checks import check_documents
from knowledge.chunking import chunk_document
from knowledge.document import Document, Validity

from .conftest import serve_staff_api, wait_until
from .pages import SCREENSHOTS, StaffApi, axe_findings, logged_in_page, needs_chromium

pytestmark = needs_chromium
MANAGER, ANALYST, PASSWORD = "kb-li", "an-zhao", "知识库-manager-pass-42"
TIMEOUT_MS = 180_000  # the first question loads the model, the first write the writer's, on a busy 2-core machine
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
LOAN_2023, LOAN_2019 = "qh-policy-entrepreneurship-loan-2023", "qh-policy-entrepreneurship-loan-2019"


def versions(admin: StaffApi, doc_id: str) -> list[int]:
    store = admin.store()
    try:
        return [v.version for v in store.history(doc_id)]
    finally:
        store.close()


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory, sample_template: Path) -> Iterator[StaffApi]:
    staff = {MANAGER: Role.KB_MANAGER, ANALYST: Role.ANALYST}
    with serve_staff_api(tmp_path_factory.mktemp("admin-pages"), sample_template, staff, PASSWORD) as running:
        yield running


def manager_page(browser: Browser, admin: StaffApi, width: int = 1280, height: int = 900) -> Page:
    """A fresh browser that opened /admin, was shown the login form, and logged in as the knowledge manager."""
    return logged_in_page(browser, f"{admin.url}/admin", MANAGER, PASSWORD, TIMEOUT_MS, width, height)


@pytest.fixture
def page(browser: Browser, admin: StaffApi) -> Iterator[Page]:
    opened = manager_page(browser, admin)
    yield opened
    opened.context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"admin-{name}.png"), full_page=True)


def no_serious_axe(page: Page) -> None:
    assert axe_findings(page) == []


def lines_of(page: Page, cells: str) -> list[int]:
    """How many lines the text of each cell takes as laid out (1: not wrapped)."""
    script = "cells => cells.map(c => { const r = document.createRange(); r.selectNodeContents(c); "
    script += "return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; })"
    return page.locator(cells).evaluate_all(script)


# ---------------------------------------------------------------------------------------------------


def test_only_kb_managers_and_admins_open_the_admin_pages(admin: StaffApi) -> None:
    paths = ["/admin", "/admin/documents", f"/admin/documents/{LOAN_2023}", f"/admin/documents/{LOAN_2023}/edit",
             f"/admin/documents/{LOAN_2023}/history", "/admin/findings"]  # fmt: skip
    with httpx.Client(base_url=admin.url, timeout=60) as anonymous:
        for path in paths:
            assert anonymous.get(path).status_code == 401, path
            refused = anonymous.get(path, headers={"X-API-Key": admin.analyst_key})
            assert refused.status_code == 403 and refused.json()["error"] == "forbidden", path
        login_form = anonymous.get("/admin/documents", headers={"Accept": "text/html"})
        assert login_form.status_code == 401 and 'name="next" value="/admin/documents"' in login_form.text

    analyst, csrf = admin.session(ANALYST)
    before = versions(admin, LOAN_2023)
    refused = analyst.post(f"/admin/documents/{LOAN_2023}/retire", data={"csrf_token": csrf, "validity": "已废止"})
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert analyst.get("/admin", headers={"Accept": "text/html"}).status_code == 403
    assert versions(admin, LOAN_2023) == before


def test_the_home_page_counts_documents_and_links_findings(page: Page, admin: StaffApi) -> None:
    store = admin.store()
    docs = list(store.all())
    store.close()
    findings = check_documents(docs, today())
    interpretation_gaps = sum(1 for f in findings if f.check == "missing_interpretation")
    assert interpretation_gaps > 0  # the sample has policies published without a 解读

    expect(page.get_by_role("heading", level=1)).to_have_text("知识库概览")
    expect(page.locator(".summary")).to_contain_text(f"共 {len(docs)} 份文件")
    policies = sum(1 for d in docs if d.kind.value == "policy")
    expect(page.locator("table.counts tbody tr").first.locator("td").last).to_have_text(str(policies))
    expect(page.get_by_role("heading", name="最近的改动")).to_be_visible()
    when_who_what = lines_of(page, "table.recent tbody td:is(:nth-child(-n + 2), :nth-child(4))")
    assert len(when_who_what) > 3 and set(when_who_what) == {1}  # "system" in one piece, not "syst / em"
    shot(page, "home")
    no_serious_axe(page)

    page.get_by_role("link", name="缺少政策解读").click()
    page.wait_for_url(re.compile(r"/admin/findings\?check=missing_interpretation$"))
    expect(page.locator("table.findings tbody tr")).to_have_count(interpretation_gaps)
    expect(page.locator("table.findings tbody")).not_to_contain_text("missing_field")


def test_the_list_filters_by_validity_and_by_search(page: Page, admin: StaffApi) -> None:
    store = admin.store()
    docs = list(store.all())
    store.close()
    expired = [d for d in docs if d.validity is Validity.EXPIRED]
    page.goto(f"{admin.url}/admin/documents")
    expect(page.locator(".summary")).to_contain_text(f"找到 {len(docs)} 份文件，第 1 / 2 页")
    rows = page.locator("table.documents tbody tr")
    expect(rows).to_have_count(PAGE_SIZE)
    page.get_by_role("link", name="下一页").click()
    expect(rows).to_have_count(len(docs) - PAGE_SIZE)

    page.get_by_label("有效性").select_option("失效")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"validity=%E5%A4%B1%E6%95%88"))
    expect(rows).to_have_count(len(expired))
    expect(rows.locator(".badge")).to_have_text(["失效"] * len(expired))

    page.get_by_label("有效性").select_option("")
    search = page.get_by_label("搜索（标题、文号、正文）")
    search.fill("创业担保贷款")
    search.press("Enter")
    page.wait_for_url(re.compile(r"q=%E5%88%9B"))
    matching = [d for d in docs if any("创业担保贷款" in v for v in (d.title, d.doc_number, d.body))]
    expect(rows).to_have_count(len(matching))
    expect(page.get_by_role("link", name="青禾县创业担保贷款实施办法（2023年修订）", exact=True)).to_be_visible()
    shot(page, "documents")
    no_serious_axe(page)

    page.get_by_role("link", name="青禾县创业担保贷款实施办法（2023年修订）", exact=True).click()
    page.wait_for_url(re.compile(f"/admin/documents/{LOAN_2023}$"))
    bad = page.goto(f"{admin.url}/admin/documents?from=2026-13-01")
    assert bad is not None and bad.status == 400
    expect(page.get_by_role("alert")).to_contain_text("不是有效的日期")


def test_a_document_shows_its_chunks_and_what_the_assistant_answers(page: Page, admin: StaffApi) -> None:
    store = admin.store()
    doc = store.get(LOAN_2023)
    store.close()
    chunks = chunk_document(doc, admin.settings.index.chunk_chars)
    page.goto(f"{admin.url}/admin/documents/{LOAN_2023}")

    expect(page.get_by_role("heading", level=1)).to_contain_text(doc.title)
    expect(page.locator("h1 .badge")).to_have_text("现行有效")
    expect(page.locator("ol.chunks > li")).to_have_count(len(chunks))
    with_heading = next(c for c in chunks if c.heading_path)
    expect(page.locator("ol.chunks > li").nth(with_heading.position).locator(".path")).to_contain_text(
        with_heading.heading_path[-1]
    )
    expect(page.get_by_role("link", name="青禾县创业担保贷款实施办法", exact=True)).to_be_visible()  # it replaced 2019
    question = page.get_by_label("市民的问题")
    expect(question).to_have_value(doc.title)  # pre-filled: the title is the first thing worth asking

    # the policy's own 解读 answers this one: the page says so, links it, and shows what the policy alone answers
    question.fill("个人创业担保贷款最高能贷多少？")
    question.press("Enter")
    expect(page.locator(".verdict")).to_contain_text("助手的回答引用的是另一份文件", timeout=TIMEOUT_MS)
    expect(page.locator(".probe .hint").first.get_by_role("link")).to_have_text(re.compile("政策解读$"))
    expect(page.get_by_role("heading", name="只从这份文件回答")).to_be_visible()
    expect(page.locator(".probe blockquote.answer").last).to_contain_text("30万元")
    shot(page, "document")
    no_serious_axe(page)

    page.goto(f"{admin.url}/admin/documents/qh-policy-minimum-living-assistance-2025?q=低保申请需要什么材料")
    expect(page.locator(".verdict")).to_have_text("✓ 助手的回答引用了这份文件。")
    expect(page.get_by_role("heading", name="只从这份文件回答")).to_have_count(0)  # the same answer, once
    # the 2019 rules are repealed: never answered from, and the page says why
    page.goto(f"{admin.url}/admin/documents/{LOAN_2019}?q=个人创业担保贷款最高能贷多少？")
    expect(page.locator(".verdict")).to_contain_text("另一份文件")
    expect(page.locator(".probe")).to_contain_text("这份文件已废止：默认不参与回答")


def test_editing_a_doc_number_shows_on_the_page_and_in_history_with_a_diff(page: Page, admin: StaffApi) -> None:
    doc_id, new_number = "qh-policy-business-environment-2024", "青政发〔2024〕18号"
    page.goto(f"{admin.url}/admin/documents/{doc_id}/edit")
    page.get_by_label("文号").fill(new_number)
    page.get_by_label("修改说明（记入历史）").fill("更正文号")
    page.get_by_role("button", name="保存", exact=True).click()

    page.wait_for_url(re.compile(f"/admin/documents/{doc_id}\\?done=saved&v=2$"))
    expect(page.get_by_role("status").first).to_contain_text("已保存为版本 2")
    expect(page.locator(".meta")).to_contain_text(new_number)
    reader = admin.api.app.state.hotline
    assert wait_until(lambda: reader.knowledge().documents()[doc_id].doc_number == new_number, timeout=30)

    page.get_by_role("link", name=re.compile("历史版本")).click()
    newest = page.locator("table.versions tbody tr").first
    expect(newest).to_contain_text(MANAGER)
    expect(newest).to_contain_text("更正文号")
    expect(newest).to_contain_text("修改信息")
    shot(page, "history")
    no_serious_axe(page)
    page.get_by_role("button", name="比较所选版本").click()
    page.wait_for_url(re.compile(r"/diff\?(old=1&new=2|new=2&old=1)$"))
    change = page.locator("table.fields tbody tr", has_text="文号")
    expect(change.locator("del")).to_have_text("青政发〔2024〕8号")
    expect(change.locator("ins")).to_have_text(new_number)
    shot(page, "diff")
    no_serious_axe(page)
    store = admin.store()
    latest = store.history(doc_id)[-1]
    store.close()
    assert (latest.actor, latest.note, latest.document.doc_number) == (MANAGER, "更正文号", new_number)


def test_bad_input_is_shown_again_and_nothing_is_saved(page: Page, admin: StaffApi) -> None:
    doc_id = "qh-policy-graduate-startup-subsidy-2024"
    before = versions(admin, doc_id)
    page.goto(f"{admin.url}/admin/documents/{doc_id}/edit")
    page.get_by_label("替代文件（编号）").fill("qh-policy-no-such-thing")
    page.get_by_label("生效日期").fill("2024-05-01")
    page.get_by_label("失效日期").fill("2024-04-01")
    with page.expect_response(lambda r: r.url.endswith("/edit") and r.request.method == "POST") as sent:
        page.get_by_role("button", name="保存", exact=True).click()
    assert sent.value.status == 400

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("没有保存")
    expect(alert).to_contain_text("知识库里没有编号为“qh-policy-no-such-thing”的文件")
    expect(alert).to_contain_text("失效日期早于生效日期")
    expect(page.get_by_label("失效日期")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("失效日期")).to_have_value("2024-04-01")  # what was typed stays
    shot(page, "edit-errors")
    no_serious_axe(page)

    http, csrf = admin.session(MANAGER)
    form = {"csrf_token": csrf, "validity": "现行有效", "written_date": "2024-02-30"}
    bad_date = http.post(f"/admin/documents/{doc_id}/edit", data=form)
    assert bad_date.status_code == 400 and "“2024-02-30”不是有效的日期" in bad_date.text
    unknown = http.post(f"/admin/documents/{doc_id}/retire", data={"csrf_token": csrf, "validity": "现行有效"})
    assert unknown.status_code == 400 and "请选择一个有效性：已废止、失效、已修改" in unknown.text
    assert versions(admin, doc_id) == before


def test_a_form_opened_before_a_colleagues_save_does_not_overwrite_it_unseen(page: Page, admin: StaffApi) -> None:
    doc_id = "qh-policy-rural-return-startup-subsidy-2024"
    page.goto(f"{admin.url}/admin/documents/{doc_id}/edit")  # opened on version 1
    colleague, csrf = admin.session(MANAGER)
    store = admin.store()
    values = values_of(store.get(doc_id))  # every field as the form sends it: an absent one would be cleared
    store.close()
    form = {**values, "csrf_token": csrf, "version": "1", "issuer": "青禾县农业农村局", "note": "同事先改了发文机关"}
    assert colleague.post(f"/admin/documents/{doc_id}/edit", data=form).status_code == 303
    assert versions(admin, doc_id) == [1, 2]

    page.get_by_label("部门").fill("县农业农村局（乡村振兴）")
    with page.expect_response(lambda r: r.url.endswith("/edit") and r.request.method == "POST") as sent:
        page.get_by_role("button", name="保存", exact=True).click()
    assert sent.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text("已被修改（现在是版本 2）")
    expect(page.get_by_role("link", name="看看版本 1 之后改了什么")).to_have_attribute(
        "href", f"/admin/documents/{doc_id}/diff?old=1&new=2"
    )
    assert versions(admin, doc_id) == [1, 2]
    expect(page.get_by_label("部门")).to_have_value("县农业农村局（乡村振兴）")  # nothing typed is lost
    page.get_by_role("button", name="保存", exact=True).click()  # seen: saving again is deliberate
    page.wait_for_url(re.compile(r"done=saved&v=3$"))


def test_retiring_with_a_reason_shows_the_badge_and_keeps_history(page: Page, admin: StaffApi) -> None:
    doc_id = "qh-policy-old-community-renovation-2024"
    page.goto(f"{admin.url}/admin/documents/{doc_id}/edit")
    page.get_by_label("标注为").select_option("已废止")
    page.get_by_label("原因").fill("改造计划已完成，办法停止执行")
    page.get_by_role("button", name="标注并保存").click()

    page.wait_for_url(re.compile(f"/admin/documents/{doc_id}\\?done=retired&v=2$"))
    expect(page.locator("h1 .badge")).to_have_text("已废止")
    expect(page.locator("h1 .badge")).to_have_class(re.compile("badge-repealed"))
    page.goto(f"{admin.url}/admin/documents/{doc_id}/history")
    newest = page.locator("table.versions tbody tr").first
    expect(newest).to_contain_text("改造计划已完成，办法停止执行")
    expect(newest).to_contain_text(MANAGER)
    expect(newest.locator(".badge")).to_have_text("已废止")
    # no successor named: the disclosure checks ask for one, and the fix link opens the field that names it
    page.goto(f"{admin.url}/admin/findings?check=retired_without_replacement")
    fix = page.get_by_role("link", name=re.compile(r"去修改\s*《青禾县城镇老旧小区改造"))
    fix.click()
    page.wait_for_url(re.compile(f"/admin/documents/{doc_id}/edit#replaced_by$"))
    expect(page.get_by_label("替代文件（编号）")).to_be_in_viewport()


def test_a_finding_is_listed_and_fixed_through_its_link(page: Page, admin: StaffApi) -> None:
    doc_id = "qh-policy-resident-medical-insurance-2025"
    page.goto(f"{admin.url}/admin/documents/{doc_id}/edit")
    page.get_by_label("文号").fill("")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r"done=saved"))

    page.goto(f"{admin.url}/admin/findings")
    page.get_by_label("检查项").select_option("missing_field")
    page.get_by_role("button", name="筛选").click()
    row = page.locator("table.findings tbody tr", has_text="缺少文号")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("城乡居民基本医疗保险")
    shot(page, "findings")
    no_serious_axe(page)
    row.get_by_role("link", name="去修改").click()
    page.wait_for_url(re.compile(f"/admin/documents/{doc_id}/edit#doc_number$"))
    number = page.get_by_label("文号")
    expect(number).to_be_in_viewport()
    number.fill("青医保发〔2025〕3号")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r"done=saved"))
    page.goto(f"{admin.url}/admin/findings?check=missing_field")
    expect(page.locator("table.findings tbody")).not_to_contain_text("缺少文号")


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(admin: StaffApi) -> None:
    doc_id = "qh-policy-employment-2025"
    http, csrf = admin.session(MANAGER)
    before = versions(admin, doc_id)
    form = {"validity": "已废止", "note": "forged"}
    for path in (f"/admin/documents/{doc_id}/retire", f"/admin/documents/{doc_id}/edit"):
        missing = http.post(path, data=form)
        wrong = http.post(path, data={**form, "csrf_token": "guessed"})
        assert [missing.status_code, wrong.status_code] == [403, 403]
        assert missing.json()["error"] == wrong.json()["error"] == "csrf_refused"
    assert versions(admin, doc_id) == before
    linked = http.post(
        f"/admin/documents/{doc_id}/interpretations", data={"interpretation": "qh-interp-employment-2025"}
    )
    assert linked.status_code == 403
    assert versions(admin, doc_id) == before


def test_a_deleted_documents_history_is_still_shown(page: Page, admin: StaffApi) -> None:
    doc_id = "qh-notice-covid-smb-relief-2022"
    store = admin.store()
    store.delete(doc_id, note="撤下过期通知", actor="cli:wang")
    store.close()
    gone = page.goto(f"{admin.url}/admin/documents/{doc_id}")
    assert gone is not None and gone.status == 404
    expect(page.locator("main")).to_contain_text("cli:wang")
    page.get_by_role("link", name="查看它的全部历史版本").click()
    expect(page.locator(".error")).to_contain_text("已删除")
    expect(page.locator("table.versions tbody tr")).to_have_count(2)
    expect(page.locator("table.versions tbody tr").first).to_contain_text("撤下过期通知")


@pytest.mark.parametrize("width", [390, 360])
def test_phone_width_has_no_horizontal_scroll(browser: Browser, admin: StaffApi, width: int) -> None:
    phone = manager_page(browser, admin, width, 740)
    try:
        for path in ("/admin", "/admin/documents", f"/admin/documents/{LOAN_2023}",
                     f"/admin/documents/{LOAN_2023}/edit", f"/admin/documents/{LOAN_2023}/history",
                     f"/admin/documents/{LOAN_2019}/diff", "/admin/findings"):  # fmt: skip
            phone.goto(f"{admin.url}{path}")
            overflow = phone.evaluate(OVERFLOW)
            assert overflow == 0, path
            expect(phone.get_by_role("heading", level=1)).to_be_in_viewport()
        if width == 390:
            phone.goto(f"{admin.url}/admin/documents/{LOAN_2023}/edit")
            phone.screenshot(path=str(SCREENSHOTS / "admin-edit-phone.png"))
            no_serious_axe(phone)
    finally:
        phone.context.close()


def test_the_pages_work_with_the_keyboard(page: Page, admin: StaffApi) -> None:
    page.goto(f"{admin.url}/admin/documents")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到正文")).to_be_focused()
    page.keyboard.press("Enter")
    search = page.get_by_label("搜索（标题、文号、正文）")
    search.focus()
    page.keyboard.type("医疗保险")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q="))
    first = page.locator("table.documents tbody tr a").first
    first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/documents/[^/?]+$"))
    expect(page.get_by_role("heading", name="分块预览", exact=False)).to_be_visible()


def test_a_document_whose_id_holds_slashes_opens_saves_and_shows_its_history(admin: StaffApi) -> None:
    doc_id = "qh/notice/2026/07"  # ids come from the files' own metadata: nothing keeps "/" out of them
    store = admin.store()
    try:
        store.upsert(Document(id=doc_id, title="青禾县关于夜间施工管理的通知", body="一、施工时间\n夜间禁止施工。"))
        values = values_of(store.get(doc_id))
    finally:
        store.close()
    http, csrf = admin.session(MANAGER)
    with closing(http):
        listed = http.get("/admin/documents", params={"q": "夜间施工"})
        assert f'href="/admin/documents/{doc_id}"' in listed.text
        for page in ("", "/edit", "/history"):
            shown = http.get(f"/admin/documents/{doc_id}{page}")
            assert shown.status_code == 200 and "夜间施工管理" in shown.text, page
        form = {**values, "csrf_token": csrf, "version": "1", "doc_number": "青政办发〔2026〕7号", "note": "补上文号"}
        saved = http.post(f"/admin/documents/{doc_id}/edit", data=form)
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == f"/admin/documents/{doc_id}?done=saved&v=2"
        assert "青政办发〔2026〕7号" in http.get(saved.headers["location"]).text
        diff = http.get(f"/admin/documents/{doc_id}/diff", params={"old": 1, "new": 2})
        assert diff.status_code == 200 and "补上文号" in diff.text
    assert versions(admin, doc_id) == [1, 2]
