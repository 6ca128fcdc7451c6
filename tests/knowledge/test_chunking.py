"""Chunking follows official headings, keeps Q&A pairs whole and gives stable ids."""

from __future__ import annotations

from knowledge.chunking import chunk_document, heading_of
from knowledge.document import Document, Kind


def test_headings_at_every_level_become_the_heading_path() -> None:
    body = "第一章 总则\n第一条 为了规范管理，制定本办法。\n一、申请条件\n（一）年满18周岁。\n（二）在本县居住。\n1.办理流程\n先申请后审核。"
    chunks = chunk_document(Document(id="d", title="办法", body=body), chunk_chars=20)
    paths = [c.heading_path for c in chunks]
    assert ("第一章 总则", "第一条") in paths
    items = {c.heading_path[-1]: c.text for c in chunks}
    assert items["（一）年满18周岁"] == "（一）年满18周岁。"  # a one-sentence item keeps its content
    assert ("第一章 总则", "一、申请条件", "（二）在本县居住") in paths
    assert any(p[-1] == "1.办理流程" for p in paths)
    assert all(c.title == "办法" for c in chunks)


def test_numbered_list_items_are_content_not_headings() -> None:
    assert heading_of("1. 身份证原件；") is None
    assert heading_of("2. 申请人提交户口簿、身份证和近期照片各一份，到窗口办理。") is None
    assert heading_of("3.办理流程") == (3, "3.办理流程", "")


def test_inline_headings_in_flattened_text_are_split() -> None:
    body = "各单位： 一、支持物资供应 对生产企业加快退税。 二、支持医疗救治 对医疗机构免征增值税。"
    chunks = chunk_document(Document(id="d", title="t", body=body), chunk_chars=300)
    assert [c.heading_path for c in chunks] == [(), ("一、支持物资供应",), ("二、支持医疗救治",)]
    assert chunks[1].text.startswith("对生产企业")


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
