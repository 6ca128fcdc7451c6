"""Contact lookups: whom a question is about, which entry answers it, and the sample contact directory."""

from __future__ import annotations

from knowledge.base import KnowledgeBase
from knowledge.contacts import DETAILS_MAX_CHARS, asked_aspects, contact_entry, contact_query, find_contact
from knowledge.document import Answer, Chunk, Citation, Document, Kind, Passage

DIRECTORY = "qh-guide-contact-directory"
RURAL = "qh-policy-rural-return-startup-subsidy-2024"
LOAN_2023 = "qh-policy-entrepreneurship-loan-2023"

GUIDE = Document("guide", "甲县部门联系方式", "正文。", kind=Kind.SERVICE_GUIDE)
POLICY = Document("policy", "甲县种粮补贴办法", "正文。", kind=Kind.POLICY, department="县农业农村局")
DOCS = {doc.id: doc for doc in (GUIDE, POLICY)}


def _passage(position: int, heading: str, text: str) -> Passage:
    chunk = Chunk(Chunk.make_id(GUIDE.id, position), GUIDE.id, position, text, GUIDE.title, (heading,))
    return Passage(chunk, Citation.of(GUIDE), 1.0 - position / 10)


def _answer(question: str, *passages: Passage, answered: bool = False) -> Answer:
    return Answer(question, answered, "", 0.5 if answered else 0.1, passages[0] if passages else None, passages)


def test_a_question_naming_nobody_asks_for_the_current_documents_department() -> None:
    query = contact_query(DOCS, "电话是多少", "policy")
    assert query.department == "县农业农村局" and query.text.startswith("县农业农村局")


def test_a_question_naming_a_department_is_searched_as_asked_without_the_current_one() -> None:
    query = contact_query(DOCS, "种粮补贴找谁", "policy")
    assert query.text == "种粮补贴找谁" and query.department == ""


def test_a_question_that_names_no_aspect_asks_for_all_three() -> None:
    assert asked_aspects("公积金中心几点上班") == ["hours"]
    assert asked_aspects("民政局在哪里") == ["address"]
    assert asked_aspects("农业农村局") == ["phone", "address", "hours"]


def test_the_entry_giving_what_was_asked_wins_over_a_better_ranked_one() -> None:
    phone = _passage(0, "一、县民政局", "咨询电话：0631-5231102")
    hours = _passage(1, "二、县民政局", "办公时间：周一至周五 上午8:30-11:30")
    entry = contact_entry(_answer("县民政局几点上班", phone, hours), "县民政局几点上班", "")
    assert entry is not None and entry.heading == "二、县民政局" and "8:30-11:30" in entry.details


def test_a_phone_written_with_brackets_and_spaces_or_a_service_line_counts_as_the_phone() -> None:
    address = _passage(0, "一、县民政局", "地址：青禾县文化路15号")
    for written in ("咨询电话：（0631） 523 1102", "咨询电话：12349"):
        phone = _passage(1, "二、县民政局", written)
        entry = contact_entry(_answer("县民政局电话", address, phone), "县民政局电话", "")
        assert entry is not None and entry.details == written


def test_an_unconfident_entry_about_someone_else_is_no_contact() -> None:
    other = _passage(0, "一、县民政局", "咨询电话：0631-5231102")
    assert contact_entry(_answer("发热门诊的咨询热线是多少", other), "发热门诊的咨询热线是多少", "") is None
    assert contact_entry(_answer("电话"), "电话", "") is None  # no guide at all


def test_long_entry_details_are_cut_to_the_limit_with_an_ellipsis() -> None:
    long = _passage(0, "一、县民政局", "\n".join(["咨询电话：0631-5231102", "主要事项：" + "救助" * 300]))
    entry = contact_entry(_answer("县民政局电话", long, answered=True), "县民政局电话", "")
    assert entry is not None and len(entry.details) == DETAILS_MAX_CHARS and entry.details.endswith("…")


def test_the_current_departments_phone_and_address_come_from_the_directory(sample_kb: KnowledgeBase) -> None:
    search = find_contact(sample_kb, "电话是多少", RURAL)
    assert search is not None and search.entry is not None
    assert search.entry.citation.doc_id == DIRECTORY and "县农业农村局" in search.entry.heading
    assert "0631-5223318" in search.entry.details and "农丰路23号" in search.entry.details


def test_a_department_named_in_the_question_overrides_the_current_one(sample_kb: KnowledgeBase) -> None:
    search = find_contact(sample_kb, "民政局在哪里", LOAN_2023)
    assert search is not None and search.entry is not None and "文化路15号" in search.entry.details
    hours = find_contact(sample_kb, "公积金中心几点上班", LOAN_2023)
    assert hours is not None and hours.entry is not None and "8:30-11:30" in hours.entry.details


def test_an_hours_question_about_the_hotline_gets_its_entry_not_the_directorys_preamble(
    sample_kb: KnowledgeBase,
) -> None:
    # the preamble gives the usual office hours and mentions 12345 too; the entry titled 12345 says round the clock
    search = find_contact(sample_kb, "12345晚上有人接不")
    assert search is not None and search.entry is not None and "12345" in search.entry.heading
    assert "服务电话：12345（24小时人工服务）；办公电话0631-5201234" in search.entry.details.splitlines()


def test_nothing_is_searched_without_a_question_or_a_current_document(sample_kb: KnowledgeBase) -> None:
    assert find_contact(sample_kb, "", "") is None


def test_an_entry_is_shown_as_lines_without_its_heading_again() -> None:
    # "县政务服务中心几点上班" repeated the heading and ran 地址, 电话 and 办公时间 into one line
    text = "一、县政务服务中心\n地址：禾兴路188号咨询电话：0631-5201188办公时间：周一至周五 上午9:00-12:00"
    question = "县政务服务中心几点上班"
    entry = contact_entry(_answer(question, _passage(0, "一、县政务服务中心", text)), question, "")
    assert entry is not None and entry.heading == "一、县政务服务中心"
    assert entry.details.splitlines() == [
        "地址：禾兴路188号",
        "咨询电话：0631-5201188",
        "办公时间：周一至周五 上午9:00-12:00",
    ]
