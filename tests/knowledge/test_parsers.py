"""Ingest parsers, run on real files written with the real libraries (python-docx, openpyxl, PDF bytes)."""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from pypdf import PdfWriter

from knowledge.document import Kind, Validity
from knowledge.errors import IngestError
from knowledge.parsers import SUPPORTED_SUFFIXES, ParsedFile, parse_file

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TODAY = date(2024, 6, 1)


def _shared(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


def _only(parsed: ParsedFile):
    assert len(parsed.documents) == 1, parsed
    return parsed.documents[0]


def _pdf_with_text(lines: list[str]) -> bytes:
    """A minimal valid PDF whose one page shows ``lines`` in the standard Adobe Song font."""
    shown = " ".join(f"<{line.encode('utf-16-be').hex()}> Tj T*" for line in lines)
    content = f"BT /F1 14 Tf 72 760 Td 18 TL {shown} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 6 0 R >>",
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [5 0 R] >>",
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += b"".join(f"{offset:010d} 00000 n \n".encode("ascii") for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode("ascii")
    return out


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_front_matter_fills_every_field(tmp_path: Path) -> None:
    path = tmp_path / "spring-fire.md"
    path.write_text(
        "---\n"
        "id: lu-fire-2023\n"
        "kind: 政策解读\n"
        "标题: 关于做好春季防火工作的通知\n"
        "文号: 鲁政办字〔2023〕5号\n"
        "发文机关: 山东省人民政府办公厅\n"
        "region: 山东省\n"
        "成文日期: 2023年3月1日\n"
        "published_date: 2023-03-02\n"
        "effective_date: 2023/3/10\n"
        "expiry_date: 2099-12-31\n"
        "有效性: 已修改\n"
        "source_url: http://www.shandong.gov.cn/art/2023/3/2/art_1.html\n"
        "interprets: lu-fire-policy\n"
        "replaced_by: lu-fire-2024\n"
        "department: 应急管理厅\n"
        "tags: [防火, 春季]\n"
        "---\n"
        "# 关于做好春季防火工作的通知\n\n**一、总体要求**\n\n各市要落实防火责任。\n",
        encoding="utf-8",
    )
    parsed = parse_file(path, today=TODAY)
    doc = _only(parsed)
    assert (doc.id, doc.kind, doc.title) == ("lu-fire-2023", Kind.INTERPRETATION, "关于做好春季防火工作的通知")
    assert (doc.doc_number, doc.issuer, doc.region) == ("鲁政办字〔2023〕5号", "山东省人民政府办公厅", "山东省")
    assert doc.written_date == date(2023, 3, 1)
    assert doc.published_date == date(2023, 3, 2)
    assert doc.effective_date == date(2023, 3, 10)
    assert doc.expiry_date == date(2099, 12, 31)
    assert doc.validity is Validity.AMENDED
    assert doc.source_url.startswith("http://www.shandong.gov.cn/")
    assert (doc.interprets, doc.replaced_by, doc.department) == ("lu-fire-policy", "lu-fire-2024", "应急管理厅")
    assert doc.tags == ("防火", "春季")
    assert doc.source_path == str(path)
    assert doc.body.split("\n") == ["关于做好春季防火工作的通知", "一、总体要求", "各市要落实防火责任。"]
    assert parsed.problems == ()


def test_markdown_unknown_key_is_reported_and_bad_validity_fails(tmp_path: Path) -> None:
    typo = tmp_path / "typo.md"
    typo.write_text("---\ntitle: 通知\nvalidty: 已废止\n---\n正文。\n", encoding="utf-8")
    assert any("validty" in problem for problem in parse_file(typo).problems)

    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: 通知\n有效性: 大概有效\n---\n正文。\n", encoding="utf-8")
    with pytest.raises(IngestError, match="有效性"):
        parse_file(bad)


def test_markdown_expiry_date_in_the_past_means_expired(tmp_path: Path) -> None:
    path = tmp_path / "old.md"
    path.write_text("---\ntitle: 旧办法\nexpiry_date: 2020-01-01\n---\n第一条 本办法自发布之日起施行。\n", "utf-8")
    assert _only(parse_file(path, today=TODAY)).validity is Validity.EXPIRED


def test_markdown_without_front_matter_keeps_list_numbers_and_headings(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_text(
        "### **二、工作措施**\n\n1. 加强组织领导。\n2. 强化督促检查。\n\n第五条 本办法自2023年1月1日起施行。\n",
        encoding="utf-8",
    )
    doc = _only(parse_file(path))
    assert doc.title == "二、工作措施"
    assert doc.body.split("\n") == [
        "二、工作措施",
        "1. 加强组织领导。",
        "2. 强化督促检查。",
        "第五条 本办法自2023年1月1日起施行。",
    ]


def test_seed_document_title_doc_number_date_and_headings() -> None:
    doc = _only(parse_file(_shared("seed/gaoqing_2022_disclosure_plan.md")))
    assert doc.title == "高青县人民政府办公室关于印发2022年高青县政务公开工作要点的通知"
    assert doc.doc_number == "高政办字〔2022〕26号"
    assert doc.written_date == date(2022, 6, 25)
    assert doc.id == "gaoqing-2022-disclosure-plan"
    lines = doc.body.split("\n")
    for heading in ("一、深化拓展政务公开领域", "三、深化政务公开标准化规范化工作", "五、深化政务公开监督保障"):
        assert heading in lines
    assert any(line.startswith("（一）推进重要部署执行信息公开") for line in lines)
    assert "#" not in doc.body and "**" not in doc.body


# --- plain text, HTML, DOCX, PDF ------------------------------------------------------------


def test_gbk_text_file_decodes(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    text = (
        "淄政字〔2023〕12号\n\n关于加强城市供水安全管理的通知\n各区县人民政府：\n"
        "一、落实供水安全责任。\n\n淄博市人民政府\n2023年4月6日\n"
    )
    path.write_bytes(text.encode("gbk"))
    doc = _only(parse_file(path))
    assert doc.title == "关于加强城市供水安全管理的通知"
    assert doc.doc_number == "淄政字〔2023〕12号"
    assert doc.written_date == date(2023, 4, 6)
    assert "一、落实供水安全责任。" in doc.body.split("\n")


def test_undecodable_text_fails(tmp_path: Path) -> None:
    path = tmp_path / "binary.txt"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(IngestError, match="编码"):
        parse_file(path)


def test_html_page_metas_and_block_lines(tmp_path: Path) -> None:
    path = tmp_path / "art_2023.html"
    path.write_text(
        """<!DOCTYPE html><html><head><meta charset="utf-8">
        <title>关于做好春季防火工作的通知_山东省人民政府</title>
        <meta name="ArticleTitle" content="关于做好春季防火工作的通知">
        <meta name="PubDate" content="2023-03-02 10:30">
        <meta name="ContentSource" content="山东省人民政府办公厅">
        <link rel="canonical" href="http://www.shandong.gov.cn/art/2023/3/2/art_2.html">
        <script>var tracker = 1;</script><style>p {color: red}</style></head>
        <body><header>网站首页 | 政务公开</header><nav>首页 &gt; 政策文件</nav>
        <div id="UCAP-CONTENT"><p>各市人民政府：</p><h3>一、总体要求</h3>
        <p>各市要
        落实<b>防火</b>责任。<br>加强巡查。</p>
        <table><tr><td>时间</td><td>任务</td></tr></table></div>
        <footer>主办单位：山东省人民政府办公厅</footer></body></html>""",
        encoding="utf-8",
    )
    doc = _only(parse_file(path))
    assert doc.title == "关于做好春季防火工作的通知"
    assert doc.published_date == date(2023, 3, 2)
    assert doc.issuer == "山东省人民政府办公厅"
    assert doc.source_url == "http://www.shandong.gov.cn/art/2023/3/2/art_2.html"
    assert doc.body.split("\n") == [
        "各市人民政府：",
        "一、总体要求",
        "各市要 落实防火责任。",
        "加强巡查。",
        "时间 任务",
    ]


def test_docx_paragraphs_tables_and_sniffed_metadata(tmp_path: Path) -> None:
    word = docx.Document()
    word.add_paragraph("青政办发〔2023〕8号")
    word.add_paragraph("关于开展2023年政务公开培训的通知")
    word.add_paragraph("一、培训对象")
    table = word.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "培训时间"
    table.rows[0].cells[1].text = "5月10日"
    word.add_paragraph("二、培训内容")
    word.add_paragraph("2023年4月20日")
    path = tmp_path / "training.docx"
    word.save(str(path))
    doc = _only(parse_file(path))
    assert doc.title == "关于开展2023年政务公开培训的通知"
    assert doc.doc_number == "青政办发〔2023〕8号"
    assert doc.written_date == date(2023, 4, 20)
    assert doc.body.split("\n")[2:5] == ["一、培训对象", "培训时间 5月10日", "二、培训内容"]


def test_pdf_text_of_every_page(tmp_path: Path) -> None:
    path = tmp_path / "fire.pdf"
    path.write_bytes(
        _pdf_with_text(["关于做好春季防火工作的通知", "鲁政办字〔2023〕5号", "一、总体要求", "2023年3月1日"])
    )
    doc = _only(parse_file(path))
    assert doc.title == "关于做好春季防火工作的通知"
    assert doc.doc_number == "鲁政办字〔2023〕5号"
    assert doc.written_date == date(2023, 3, 1)
    assert "一、总体要求" in doc.body.split("\n")


def test_pdf_without_text_fails(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    path = tmp_path / "scan.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(IngestError, match="没有可提取的文字"):
        parse_file(path)


# --- JSON Lines -----------------------------------------------------------------------------


def _tpe(data_id: str, start: str, end: str) -> str:
    record = {
        "data_id": data_id,
        "deptName": "臺北市政府警察局",
        "news_title": "如何申請交通違規簡訊服務？",
        "news_content": "請至臺北市政府警察局網站申請。",
        "keyword": "交通違規,簡訊服務、申請",
        "contact_phone": "1999",
        "post_date": "2015-01-06 00:00:00",
        "start_date": start,
        "end_date": end,
    }
    return json.dumps(record, ensure_ascii=False)


def test_jsonl_competition_and_taipei_lines_with_a_malformed_line(tmp_path: Path) -> None:
    text = "国家卫生健康委办公厅关于加强医疗救治工作的通知 国卫办医函〔2020〕83号 各省卫生健康委：现通知如下。"
    text += " 2020年1月28日"
    ncp = {"id": "abc123", "text": text}
    lines = [
        json.dumps(ncp, ensure_ascii=False),
        _tpe("GIP_1", "2015-01-06 09:19:00", "2100-10-21 23:59:00"),
        '{"id": "broken", "text": ',
        _tpe("GIP_2", "2015-01-06 09:19:00", "2017-12-31 23:59:00"),
        _tpe("GIP_3", "2099-01-01 00:00:00", "2100-10-21 23:59:00"),
        "",
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    parsed = parse_file(path, today=TODAY)
    docs = {doc.id: doc for doc in parsed.documents}
    assert set(docs) == {"abc123", "GIP_1", "GIP_2", "GIP_3"}
    assert parsed.problems == ("第3行: JSON 无法解析",)

    policy = docs["abc123"]
    assert (policy.kind, policy.title) == (Kind.POLICY, "国家卫生健康委办公厅关于加强医疗救治工作的通知")
    assert (policy.doc_number, policy.written_date) == ("国卫办医函〔2020〕83号", date(2020, 1, 28))

    faq = docs["GIP_1"]
    assert (faq.kind, faq.title, faq.validity) == (Kind.FAQ, "如何申請交通違規簡訊服務？", Validity.CURRENT)
    assert faq.body == "问：如何申請交通違規簡訊服務？\n答：請至臺北市政府警察局網站申請。"
    assert faq.issuer == faq.department == "臺北市政府警察局"
    assert faq.tags == ("交通違規", "簡訊服務", "申請")
    assert (faq.published_date, faq.effective_date) == (date(2015, 1, 6), date(2015, 1, 6))
    assert faq.expiry_date == date(2100, 10, 21)
    assert docs["GIP_2"].validity is Validity.EXPIRED
    assert docs["GIP_3"].validity is Validity.PENDING


def test_jsonl_document_fields_and_duplicate_ids(tmp_path: Path) -> None:
    record = {"id": "guide-1", "kind": "service_guide", "title": "居住证办理指南", "tags": ["居住证"]}
    record["body"] = "办理地点：各派出所。"
    path = tmp_path / "guides.jsonl"
    path.write_text("\n".join([json.dumps(record, ensure_ascii=False)] * 2 + ["[1, 2]"]), encoding="utf-8")
    parsed = parse_file(path)
    doc = _only(parsed)
    assert (doc.kind, doc.title, doc.tags) == (Kind.SERVICE_GUIDE, "居住证办理指南", ("居住证",))
    assert parsed.problems == ("第2行: id「guide-1」重复，已跳过", "第3行: 不是 JSON 对象")


def test_jsonl_without_usable_lines_fails(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('not json\n{"title": "没有正文"}\n', encoding="utf-8")
    with pytest.raises(IngestError, match="没有可用的记录"):
        parse_file(path)


def test_shared_competition_files_parse_completely() -> None:
    ncp = parse_file(_shared("ncp/documents.jsonl"))
    assert len(ncp.documents) == 599 and ncp.problems == ()
    assert all(doc.kind is Kind.POLICY and doc.title for doc in ncp.documents)

    tpe = parse_file(_shared("tpe/faq.jsonl"), today=TODAY)
    assert len(tpe.documents) + len(tpe.problems) == 1877
    assert all(doc.kind is Kind.FAQ for doc in tpe.documents)
    assert sum(doc.validity is Validity.EXPIRED for doc in tpe.documents) >= 481
    assert any("臺北市" in doc.issuer for doc in tpe.documents)  # traditional script is kept


# --- question–answer tables -----------------------------------------------------------------


def test_csv_question_answer_table(tmp_path: Path) -> None:
    path = tmp_path / "hotline-faq.csv"
    path.write_text(
        "问题;答案;部门;关键词;发布日期\n"
        "居住证怎么办理？;携带身份证到社区派出所办理。;公安局;居住证，户籍;2023-03-01\n"
        ";;;;\n"
        "社保卡丢了怎么办？;;人社局;;\n"
        '"公积金, 如何提取？";登录公积金网站申请。;公积金中心;;2023年5月1日\n',
        encoding="utf-8",
    )
    parsed = parse_file(path)
    assert [doc.title for doc in parsed.documents] == ["居住证怎么办理？", "公积金, 如何提取？"]
    first = parsed.documents[0]
    assert first.kind is Kind.FAQ
    assert first.body == "问：居住证怎么办理？\n答：携带身份证到社区派出所办理。"
    assert (first.department, first.tags, first.published_date) == ("公安局", ("居住证", "户籍"), date(2023, 3, 1))
    assert re.fullmatch(r"hotline-faq-[0-9a-f]{10}", first.id)
    assert parsed.problems == ("第4行: 缺少答案，已跳过",)
    assert [doc.id for doc in parse_file(path).documents] == [doc.id for doc in parsed.documents]


def test_xlsx_question_answer_table(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "留言"
    sheet.append(["2019年网上问政留言"])
    sheet.append(["留言编号", "留言主题", "留言详情", "答复意见", "答复时间"])
    sheet.append([1, "A市路灯不亮", "晚上没有路灯", "已安排维修。", datetime(2019, 5, 10, 11, 24)])
    sheet.append([2, "A2区噪音扰民", "施工噪音", None, "2019/5/11"])
    workbook.create_sheet("说明").append(["本表由市政务服务中心整理"])
    path = tmp_path / "messages.xlsx"
    workbook.save(path)
    parsed = parse_file(path)
    doc = _only(parsed)
    assert (doc.title, doc.body) == ("A市路灯不亮", "问：A市路灯不亮\n答：已安排维修。")
    assert doc.published_date == date(2019, 5, 10)
    assert parsed.problems == ("工作表「留言」第4行: 缺少答案，已跳过", "工作表「说明」没有问题/答案表头，已跳过")


def test_table_without_question_answer_header_fails(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("姓名,电话\n张三,1999\n", encoding="utf-8")
    with pytest.raises(IngestError, match="表头"):
        parse_file(path)


# --- whole-file failures and ids ------------------------------------------------------------


@pytest.mark.parametrize(("name", "content"), [("empty.md", b""), ("blank.txt", b" \n\t\n"), ("empty.pdf", b"")])
def test_empty_file_fails(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError, match="空") as caught:
        parse_file(path)
    assert caught.value.path == str(path)


@pytest.mark.parametrize(
    ("name", "reason"), [("broken.pdf", "无法读取 PDF"), ("broken.docx", "Word"), ("broken.xlsx", "Excel")]
)
def test_corrupt_binary_file_fails(tmp_path: Path, name: str, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(os.urandom(2048))
    with pytest.raises(IngestError, match=reason):
        parse_file(path)


def test_unsupported_suffix_fails(tmp_path: Path) -> None:
    path = tmp_path / "scan.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0 old word file")
    assert ".doc" not in SUPPORTED_SUFFIXES
    with pytest.raises(IngestError, match="不支持的文件类型"):
        parse_file(path)


def test_ids_are_stable_and_ascii_for_chinese_file_names(tmp_path: Path) -> None:
    path = tmp_path / "关于春季防火的通知.txt"
    path.write_text("关于春季防火的通知\n各市要落实防火责任。\n", encoding="utf-8")
    first, second = _only(parse_file(path)), _only(parse_file(path))
    assert first.id == second.id
    assert re.fullmatch(r"doc-[0-9a-f]{12}", first.id)
