"""The ``python -m knowledge`` command line, as a knowledge manager uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.cli import main
from knowledge.settings import Settings

from ..conftest import copy_sample


@pytest.fixture
def loaded(sample_template: Path, tmp_path: Path) -> Settings:
    return copy_sample(sample_template, tmp_path / "kb")


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8")
    return path


def test_ingest_reports_what_it_did(settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "in" / "a.md"
    good.parent.mkdir()
    good.write_text("---\nid: a\ntitle: 青禾县停车收费标准\n---\n一、收费标准\n路边停车每小时3元。\n", "utf-8")
    (tmp_path / "in" / "bad.docx").write_bytes(b"not a zip")
    assert main(["ingest", str(tmp_path / "in")], settings) == 0
    captured = capsys.readouterr()
    assert "新增 1" in captured.out and "失败文件 1" in captured.out
    assert "bad.docx" in captured.err


def test_search_json_carries_citations(loaded: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "创业担保贷款最高可以贷多少", "--top-k", "3", "--json"], loaded) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 3
    citation = results[0]["citation"]
    assert citation["title"] and citation["validity"] == "现行有效"
    assert results[0]["bm25_score"] is not None or results[0]["dense_score"] is not None


def test_retire_then_show_history(loaded: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    main(["search", "创业担保贷款", "--json"], loaded)
    doc_id = json.loads(capsys.readouterr().out)[0]["doc_id"]
    assert main(["retire", doc_id, "--validity", "已废止", "--note", "测试废止"], loaded) == 0
    capsys.readouterr()
    main(["search", "创业担保贷款", "--json", "--top-k", "10"], loaded)
    assert doc_id not in {r["doc_id"] for r in json.loads(capsys.readouterr().out)}
    assert main(["show", doc_id], loaded) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["validity"] == "已废止"
    assert [h["action"] for h in shown["history"]][-1] == "retired"


def test_bad_validity_and_unknown_document_are_clear_errors(
    loaded: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["retire", "qh-policy-entrepreneurship-loan-2023", "--validity", "过期了"], loaded) == 2
    assert "过期了" in capsys.readouterr().err
    assert main(["retire", "no-such-id", "--validity", "已废止"], loaded) == 2
    assert "no-such-id" in capsys.readouterr().err
    assert main(["show", "no-such-id"], loaded) == 2
    with pytest.raises(SystemExit):
        main(["retire"], loaded)


def test_terms_writes_a_jieba_user_dictionary(loaded: Settings, tmp_path: Path) -> None:
    out = tmp_path / "userdict.txt"
    assert main(["terms", str(out)], loaded) == 0
    lines = out.read_text("utf-8").splitlines()
    assert len(lines) > 20 and all(len(line.split()) == 3 for line in lines)


def test_eval_prints_the_metrics_as_json(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = write_jsonl(
        tmp_path / "docs.jsonl",
        [
            {"id": "a", "text": "青禾县养老服务补贴办法 一、补贴标准 80周岁以上老人每月发放高龄津贴100元。"},
            {"id": "b", "text": "青禾县义务教育入学办法 一、报名时间 小学新生每年7月1日至7月10日网上报名。"},
        ],
    )
    questions = write_jsonl(
        tmp_path / "q.jsonl",
        [
            {"question": "80岁老人每月高龄津贴多少钱", "doc_id": "a", "answer": "每月发放高龄津贴100元"},
            {"question": "小学新生什么时候报名", "doc_id": "b", "answer": "7月1日至7月10日"},
        ],
    )
    assert main(["eval", "--documents", str(docs), "--questions", str(questions), "--json"], settings) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 2 and result["recall@1"] == 1.0 and result["answer_hit@1"] == 1.0
    for key in ("recall@5", "mrr@10", "no_answer_rate", "latency_ms_p50", "latency_ms_p95"):
        assert key in result


def test_eval_with_a_missing_file_is_a_clear_error(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    missing = ["--documents", "/nonexistent/docs.jsonl", "--questions", "/nonexistent/q.jsonl"]
    assert main(["eval", *missing], settings) == 2
    err = capsys.readouterr().err
    assert "无法读取" in err and "/nonexistent/q.jsonl" in err and "Traceback" not in err


def test_ingesting_a_republished_copy_says_so_without_calling_it_skipped(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notice = "关于调整城区公交票价的通知：一、自2026年1月1日起，城区公交普通线路票价统一调整为2元，空调线路2.5元。" * 3
    feed = tmp_path / "news.jsonl"
    feed.write_text(
        json.dumps({"id": "gov", "text": notice}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": "media", "text": "（转载）" + notice}, ensure_ascii=False),
        "utf-8",
    )
    assert main(["ingest", str(feed)], settings) == 0
    captured = capsys.readouterr()
    assert "新增 2" in captured.out and "跳过记录 0" in captured.out
    assert "已导入，但 media：与 gov 内容重复" in captured.err
