"""Chunking follows official headings, keeps Q&A pairs whole and gives stable ids."""

from __future__ import annotations

from knowledge.chunking import chunk_document, heading_of
from knowledge.document import Document, Kind


def test_headings_at_every_level_become_the_heading_path() -> None:
    body = (
        "第一章 总则\n第一条 为了规范管理，制定本办法。\n一、申请条件\n（一）年满18周岁。\n（二）在本县居住。\n"
        "1.办理流程\n先申请后审核。"
    )
    chunks = chunk_document(Document(id="d", title="办法", body=body), chunk_chars=20)
    assert [(c.heading_path, c.text) for c in chunks] == [
        (("第一章 总则", "第一条"), "第一条 为了规范管理，制定本办法。"),
        # short items share a chunk under the heading they share; a one-sentence item keeps its words
        (("第一章 总则", "一、申请条件"), "（一）年满18周岁。\n（二）在本县居住。"),
        (("第一章 总则", "一、申请条件", "（二）在本县居住", "1.办理流程"), "1.办理流程\n先申请后审核。"),
    ]
    assert all(c.title == "办法" for c in chunks)


def test_numbered_list_items_are_content_not_headings() -> None:
    assert heading_of("1. 身份证原件；") is None
    assert heading_of("2. 申请人提交户口簿、身份证和近期照片各一份，到窗口办理。") is None
    assert heading_of("3.办理流程") == (3, "3.办理流程", "")


def test_inline_headings_in_flattened_text_are_split() -> None:
    body = "各单位： 一、支持物资供应 对生产企业加快退税。 二、支持医疗救治 对医疗机构免征增值税。"
    chunks = chunk_document(Document(id="d", title="t", body=body), chunk_chars=20)
    assert [c.heading_path for c in chunks] == [(), ("一、支持物资供应",), ("二、支持医疗救治",)]
    assert chunks[1].text.startswith("一、支持物资供应\n对生产企业")  # the title line opens its text


def test_faq_is_one_chunk_per_pair() -> None:
    body = "问：去哪里办？\n答：县政务服务中心。\n\n问：要多久？\n答：5个工作日。"
    chunks = chunk_document(Document(id="f", title="问答", body=body, kind=Kind.FAQ))
    assert [c.heading_path for c in chunks] == [("去哪里办？",), ("要多久？",)]
    assert chunks[1].text == "问：要多久？\n答：5个工作日。"


def test_long_sections_split_at_sentence_ends_with_stable_ids() -> None:
    body = "一、总体要求\n" + "".join(f"第{i}项工作要按时完成并公开进展情况。" for i in range(40))
    doc = Document(id="long", title="要点", body=body)
    first, second = chunk_document(doc, 120), chunk_document(doc, 120)
    assert first == second and len(first) > 3
    assert [c.id for c in first] == [f"long#{i}" for i in range(len(first))]
    assert all(len(c.text) <= 130 and c.text.endswith("。") for c in first)


def test_items_that_open_with_a_marker_keep_all_their_words_in_the_text() -> None:
    body = (
        "第四条 申请人应当符合下列条件：\n（一）年龄在18周岁以上、60周岁以下；\n（二）在本县登记失业；\n"
        "一、任何单位、组织和个人，应当服从各级政府发布的防控疫情的决定、公告，自觉接受疾控机构采取的防控措施。\n"
        "（三）受理举报的部门应对举报人信息严格保密。泄漏举报人信息的，依法依纪追究责任。"
    )
    article, part = chunk_document(Document(id="d", title="办法", body=body), chunk_chars=300)
    assert f"{article.text}\n{part.text}" == body  # nothing of an item is left only in a heading path
    assert part.heading_path[0].startswith("一、任何单位")  # a part (一、) opens a chunk of its own
    chunks = chunk_document(Document(id="d", title="办法", body=body), chunk_chars=20)
    assert chunks[0].text == "第四条 申请人应当符合下列条件："
    assert chunks[1].heading_path == ("第四条", "（一）年龄在18周岁以上、60周岁以下")
    long_item = next(c for c in chunks if c.text.startswith("一、任何单位"))
    assert len(long_item.heading_path[-1]) <= 42  # the path holds a label, the text the whole item


def test_a_title_line_alone_is_no_chunk() -> None:
    body = "一、总体要求\n（一）指导思想\n坚持以人民为中心。"
    chunks = chunk_document(Document(id="d", title="t", body=body))
    assert [(c.heading_path, c.text) for c in chunks] == [
        (("一、总体要求", "（一）指导思想"), "（一）指导思想\n坚持以人民为中心。")
    ]


def test_items_under_no_heading_stay_apart_from_the_introduction() -> None:
    body = "为确保补贴按时发放，制定本方案。\n（一）谁能领。补贴发给种地农民。\n（二）领多少。每亩118元。"
    chunks = chunk_document(Document(id="d", title="解读", body=body))
    assert [c.text for c in chunks] == body.splitlines()


def test_paragraphs_of_one_section_stay_on_lines_of_their_own() -> None:
    body = "第六条 申请人应提交以下材料：\n1. 申请表；\n2. 居民身份证。\n\n逾期不提交的，视为放弃。\n第七条 施行。"
    article, _ = chunk_document(Document(id="d", title="办法", body=body))
    # run together ("…材料：1. 申请表；2. 居民身份证。逾期…") a quoted list reads as one sentence
    assert article.text.splitlines() == [
        "第六条 申请人应提交以下材料：",
        "1. 申请表；",
        "2. 居民身份证。",
        "逾期不提交的，视为放弃。",
    ]


def test_an_answer_of_several_paragraphs_keeps_its_line_breaks() -> None:
    body = "问：在哪里办？\n答：县政务服务中心一楼。\n地址：禾兴路188号\n电话：0631-5201188"
    (chunk,) = chunk_document(Document(id="f", title="问答", body=body, kind=Kind.FAQ))
    assert chunk.text == body


def test_a_long_section_is_split_within_a_paragraph_and_a_title_line_stays_with_its_text() -> None:
    body = "一、总体要求\n" + "".join(f"第{i}项工作要按时完成。" for i in range(30))
    pieces = chunk_document(Document(id="d", title="t", body=body), chunk_chars=100)
    assert pieces[0].text.startswith("一、总体要求\n第0项工作要按时完成。")
    assert all("\n" not in piece.text for piece in pieces[1:])  # one paragraph: no line break inside it
