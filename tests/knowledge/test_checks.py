"""Disclosure checks, each on documents the test writes (a publication across the National Day holiday
included), and documents ingested without a validity label kept 未标注 instead of assumed 现行有效."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from knowledge.checks import CHECKS, check_documents, count_by_check
from knowledge.cli import main
from knowledge.document import Citation, Document, Kind, Validity
from knowledge.parsers import parse_file
from knowledge.settings import Settings
from knowledge.store import DocumentStore
from knowledge.workdays import working_days_after

from ..postgres import throwaway_schema

TODAY = date(2026, 12, 1)

# a policy that passes every check, and its interpretation
GOOD = Document(
    id="fee",
    kind=Kind.POLICY,
    title="青禾县停车收费管理办法",
    doc_number="青政发〔2024〕30号",
    issuer="青禾县人民政府",
    written_date=date(2024, 9, 23),
    published_date=date(2024, 9, 25),
    validity=Validity.CURRENT,
    body="第一条 路边停车每小时3元。",
)
GOOD_NOTE = Document(
    id="fee-jd",
    kind=Kind.INTERPRETATION,
    title="《青禾县停车收费管理办法》政策解读",
    interprets="fee",
    validity=Validity.CURRENT,
    body="问：停车怎么收费？\n答：每小时3元。",
)


def _findings(*docs: Document) -> list[tuple[str, str]]:
    return [(f.doc_id, f.check) for f in check_documents([GOOD, GOOD_NOTE, *docs], TODAY)]


def _policy(doc_id: str, **changes: object) -> Document:
    """A copy of GOOD with its own interpretation, so only the changed fields can produce findings."""
    return replace(GOOD, id=doc_id, **changes)


def _with_note(doc: Document) -> tuple[Document, Document]:
    return doc, replace(GOOD_NOTE, id=f"{doc.id}-jd", interprets=doc.id)


def test_a_complete_policy_with_its_interpretation_has_no_finding() -> None:
    assert _findings() == []


def test_missing_fields_are_named_one_by_one() -> None:
    bare = _policy("bare", doc_number="", written_date=None, published_date=None)
    found = check_documents([*_with_note(bare)], TODAY)
    assert [(f.check, f.detail) for f in found] == [
        ("missing_field", "缺少文号"),
        ("missing_field", "缺少成文日期"),
        ("missing_field", "缺少发布日期"),
    ]
    untitled = _policy("untitled", title="")
    assert [(f.check, f.detail) for f in check_documents([*_with_note(untitled)], TODAY)] == [
        ("missing_field", "缺少标题")
    ]
    # a FAQ or a guide carries no 文号: the disclosure plan's fields are demanded of policies only
    faq = Document(id="faq", kind=Kind.FAQ, title="怎么交停车费？", body="问：怎么交？\n答：扫码。")
    assert _findings(faq) == []


def test_missing_validity_and_missing_interpretation() -> None:
    unlabelled = _policy("unlabelled", validity=Validity.UNSET)
    assert [(f.check, f.detail) for f in check_documents([*_with_note(unlabelled)], TODAY)] == [
        ("missing_validity", "有效性未标注")
    ]
    alone = _policy("alone")
    assert _findings(alone) == [("alone", "missing_interpretation")]
    # a repealed policy needs no 解读 any more
    assert _findings(_policy("old", validity=Validity.REPEALED, replaced_by="fee")) == []


def test_expired_but_current() -> None:
    stale = _policy("stale", expiry_date=date(2025, 12, 31))
    found = check_documents([*_with_note(stale)], TODAY)
    assert [(f.check, f.detail) for f in found] == [
        ("expired_but_current", "失效日期 2025-12-31 已过，仍标注为现行有效")
    ]
    assert check_documents([*_with_note(replace(stale, expiry_date=date(2027, 1, 1)))], TODAY) == []
    assert check_documents([*_with_note(replace(stale, validity=Validity.EXPIRED))], TODAY) == []


def test_late_publication_counts_holidays_and_make_up_workdays() -> None:
    def late(written: date, published: date) -> list[str]:
        doc = _policy("p", written_date=written, published_date=published)
        return [f.detail for f in check_documents([*_with_note(doc)], TODAY) if f.check == "late_publication"]

    # written Monday 30 September 2024, published Thursday 10 October: 1–7 October is the National Day
    # holiday, so only 8, 9 and 10 October are working days (Monday to Friday would count 6)
    assert late(date(2024, 9, 30), date(2024, 10, 10)) == []
    assert late(date(2024, 9, 30), date(2024, 10, 11)) == [
        "成文日期 2024-09-30，发布日期 2024-10-11：相隔 4 个工作日，超过 3 个"
    ]
    # Saturday 12 October 2024 was a make-up workday: Thursday 10 → Tuesday 15 is 11, 12, 14, 15 = 4 days
    assert late(date(2024, 10, 10), date(2024, 10, 14)) == []
    assert len(late(date(2024, 10, 10), date(2024, 10, 15))) == 1
    assert working_days_after(date(2024, 9, 30), date(2024, 10, 8)) == (1, True)
    # a year the package has no holiday arrangements for is counted Monday to Friday, and said so
    days, known = working_days_after(date(2099, 1, 5), date(2099, 1, 12))
    assert (days, known) == (5, False)
    assert "按周一至周五计" in late(date(2099, 1, 5), date(2099, 1, 12))[0]


def test_broken_links_and_retired_without_replacement() -> None:
    orphan = replace(GOOD_NOTE, id="orphan-jd", interprets="no-such-policy")
    pointer = _policy("pointer", validity=Validity.AMENDED, replaced_by="gone")
    silent = _policy("silent", validity=Validity.REPEALED)
    expired = _policy("expired", validity=Validity.EXPIRED)  # 失效 by its date needs no successor
    found = check_documents([GOOD, GOOD_NOTE, orphan, *_with_note(pointer), silent, expired], TODAY)
    assert [f.as_dict() for f in found if f.check in ("broken_link", "retired_without_replacement")] == [
        {"doc_id": "orphan-jd", "check": "broken_link", "detail": "解读对象 no-such-policy 不存在"},
        {"doc_id": "pointer", "check": "broken_link", "detail": "替代文件 gone 不存在"},
        {"doc_id": "silent", "check": "retired_without_replacement", "detail": "标注为已废止，但未注明替代文件"},
    ]
    counts = count_by_check(found)
    assert list(counts) == list(CHECKS) and counts["broken_link"] == 2 and counts["late_publication"] == 0


def test_a_document_ingested_without_a_validity_label_stays_unset(tmp_path: Path) -> None:
    path = tmp_path / "notice.md"
    path.write_text(
        "---\nid: n1\ntitle: 关于停车收费的通知\n文号: 青政发〔2024〕31号\n---\n一、停车每小时3元。\n", "utf-8"
    )
    doc = parse_file(path, today=TODAY).documents[0]
    assert doc.validity is Validity.UNSET and not doc.validity.is_retired
    assert Citation.of(doc).format().endswith("【未标注】")
    plain = tmp_path / "plain.txt"
    plain.write_text("青禾县停车收费标准\n路边停车每小时3元。\n", "utf-8")
    assert parse_file(plain, today=TODAY).documents[0].validity is Validity.UNSET
    # stated validity and dates still decide: a label, a passed expiry date, a validity period
    labelled = tmp_path / "labelled.md"
    labelled.write_text("---\ntitle: 办法\n有效性: 现行有效\n---\n正文。\n", "utf-8")
    assert parse_file(labelled, today=TODAY).documents[0].validity is Validity.CURRENT
    period = tmp_path / "period.md"
    period.write_text("---\ntitle: 办法\n生效日期: 2024-01-01\n失效日期: 2028-12-31\n---\n正文。\n", "utf-8")
    assert parse_file(period, today=TODAY).documents[0].validity is Validity.CURRENT
    assert Document(id="x", title="", body="正文").validity is Validity.UNSET


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    if request.param == "sqlite":
        sqlite = DocumentStore.open(f"sqlite:///{tmp_path}/store.db")
        yield sqlite
        sqlite.close()
        return
    with throwaway_schema("kb_checks") as engine:
        postgres = DocumentStore(engine)
        yield postgres
        postgres.close()


def test_unset_validity_round_trips_through_the_store(store: DocumentStore) -> None:
    unlabelled = _policy("unlabelled", validity=Validity.UNSET)
    store.upsert(unlabelled)
    assert store.get("unlabelled").validity is Validity.UNSET
    assert store.history("unlabelled")[0].document.validity is Validity.UNSET
    assert [f.check for f in check_documents(store.all(), TODAY)] == ["missing_validity", "missing_interpretation"]


def test_the_check_command_prints_findings_and_json(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    store = DocumentStore.open(settings.store.url)
    for doc in (GOOD, GOOD_NOTE, _policy("alone", doc_number=""), _policy("silent", validity=Validity.REPEALED)):
        store.upsert(doc)
    store.close()
    assert main(["check", "--json"], settings) == 1
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "findings": [
            {"doc_id": "alone", "check": "missing_field", "detail": "缺少文号"},
            {"doc_id": "alone", "check": "missing_interpretation", "detail": "没有政策解读关联到这份政策"},
            {"doc_id": "silent", "check": "retired_without_replacement", "detail": "标注为已废止，但未注明替代文件"},
        ]
    }
    assert main(["check"], settings) == 1
    printed = capsys.readouterr().out
    assert "alone  missing_field（缺少必备要素）：缺少文号" in printed and "共 3 项问题" in printed


def test_the_check_command_passes_a_compliant_knowledge_base(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    store = DocumentStore.open(settings.store.url)
    store.upsert(GOOD)
    store.upsert(GOOD_NOTE)
    store.close()
    assert main(["check", "--json"], settings) == 0
    assert json.loads(capsys.readouterr().out) == {"findings": []}
    assert main(["check"], settings) == 0
    assert "共 0 项问题，符合公开要求" in capsys.readouterr().out
