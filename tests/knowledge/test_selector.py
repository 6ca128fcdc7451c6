"""The learned answer selector: the shipped weights, the fallback without them, training and its command."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from knowledge.answer import ExtractionSettings, extract_answer
from knowledge.cli import main
from knowledge.document import Document
from knowledge.errors import IngestError
from knowledge.selector import DEFAULT_PATH, FEATURES, Selector, load_selector
from knowledge.settings import Settings
from knowledge.training import Corpus, Example, lexical_retriever, load_colloquial, split_of, train_selector

AMOUNT = "失业保险金标准为月最低工资标准的90%，即每月1710元，按月发放。"
DOCS = {
    f"d{n}": Document(
        id=f"d{n}",
        title=f"第{n}号失业保险金发放办法",
        body=(
            f"第一条 为做好第{n}片区失业保险金发放工作，保障失业人员基本生活，制定本办法。\n"
            f"第二条 第{n}片区失业人员可以申领失业保险金，由经办机构负责审核。"
            + "经办机构应当及时受理申请，按规定程序审核并告知申请人审核结果，做好政策宣传和咨询服务工作。"
            * 4
            + "\n"
            f"第三条 第{n}片区失业保险金由经办机构统一组织实施。"
            + "经办机构应当加强基金监督管理，定期公开收支情况，接受社会监督，确保资金安全。"
            * 5
            + f"第{n}片区{AMOUNT}\n"
            f"第四条 本办法由第{n}片区人力资源和社会保障局负责解释。"
        ),
    )
    for n in range(1, 41)
}


def examples() -> list[Example]:
    return [Example(f"q{n}", f"第{n}片区失业保险金每月发多少钱", f"第{n}片区{AMOUNT}") for n in range(1, 41)]


def training_files(folder: Path) -> tuple[Path, Path]:
    """The documents and annotated questions above as the files ``train-selector`` reads."""
    documents = folder / "documents.jsonl"
    documents.write_text(
        "".join(
            json.dumps({"id": d.id, "text": f"{d.title}\n{d.body}"}, ensure_ascii=False) + "\n" for d in DOCS.values()
        ),
        encoding="utf-8",
    )
    questions = folder / "questions.jsonl"
    questions.write_text(
        "".join(
            json.dumps({"id": e.id, "question": e.question, "answer": e.answer}, ensure_ascii=False) + "\n"
            for e in examples()
        ),
        encoding="utf-8",
    )
    return documents, questions


def test_the_shipped_selector_has_a_weight_for_every_feature_and_says_how_it_was_trained() -> None:
    selector = Selector.from_json(DEFAULT_PATH.read_text(encoding="utf-8"))
    data = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    assert list(data["features"]) == list(FEATURES)
    assert "tune half" in data["trained_on"] and data["training_questions"] > 100
    assert np.isfinite(selector.weights).all() and selector.weights.any()


def test_weights_for_other_features_are_refused(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    del data["features"][FEATURES[0]]
    with pytest.raises(ValueError, match="do not match"):
        Selector.from_json(json.dumps(data))


def test_without_the_file_answers_fall_back_to_the_hand_weighted_extraction_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    retriever, index = lexical_retriever(DOCS, Settings())
    question = "第7片区失业保险金每月发多少钱"
    passages = retriever.search(question, 5)
    missing = tmp_path / "selector.json"
    with caplog.at_level(logging.WARNING, logger="knowledge.selector"):
        answer = extract_answer(question, passages, index.idf, ExtractionSettings(selector_path=missing))
    assert any("not found" in r.message and "hand-weighted" in r.message for r in caplog.records)
    assert load_selector(missing) is None
    assert answer.answered and "1710元" in answer.text and answer.passage and answer.passage.doc_id == "d7"


def test_training_learns_to_prefer_the_span_that_holds_the_answer() -> None:
    # the answer lies past the first 200 characters of its article: a selector that learned nothing quotes them
    retriever, index = lexical_retriever(DOCS, Settings())
    settings = ExtractionSettings(selector_path=None)
    selector = train_selector(examples(), lambda q: retriever.search(q, 5), index.idf, retriever.next_chunk, settings)
    assert selector.meta["training_questions"] == sum(split_of(e.id) == "tune" for e in examples())
    for example in examples():
        if split_of(example.id) == "held-out":  # questions the weights never saw
            passages = retriever.search(example.question, 5)
            answer = extract_answer(example.question, passages, index.idf, settings, retriever.next_chunk, selector)
            assert "1710元" in answer.text, answer.text
    # a written and re-read selector scores the same
    again = Selector.from_json(selector.to_json())
    assert np.allclose(again.weights, selector.weights, atol=1e-5)


def test_the_halves_are_stable_and_disjoint() -> None:
    ids = [f"id-{n}" for n in range(200)]
    halves = [split_of(i) for i in ids]
    assert halves == [split_of(i) for i in ids]
    assert 70 < halves.count("tune") < 130 and set(halves) == {"tune", "held-out"}


def test_train_selector_command_writes_weights_the_assistant_reads(tmp_path: Path) -> None:
    documents, questions = training_files(tmp_path)
    out = tmp_path / "selector.json"
    assert (
        main(["train-selector", "--documents", str(documents), "--questions", str(questions), "--out", str(out)]) == 0
    )
    assert Selector.from_json(out.read_text(encoding="utf-8")).meta["training_questions"] > 5


def test_train_selector_command_names_a_bad_question_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    documents = tmp_path / "documents.jsonl"
    documents.write_text(
        json.dumps({"id": "d1", "text": "标题\n正文内容。"}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"id": "q1", "question": "问题"}\n', encoding="utf-8")
    out = tmp_path / "selector.json"
    assert (
        main(["train-selector", "--documents", str(documents), "--questions", str(questions), "--out", str(out)]) == 2
    )
    assert "第1行" in capsys.readouterr().err and not out.exists()


def test_colloquial_rows_train_by_the_strings_a_right_answer_holds(tmp_path: Path) -> None:
    retriever, index = lexical_retriever(DOCS, Settings())
    settings = ExtractionSettings(selector_path=None)
    colloquial = [Example(f"c{n}", f"第{n}片区失业金一个月能领多少", "", ("1710元",)) for n in range(1, 11)]
    assert colloquial[0].held_by(f"第1片区{AMOUNT}") and not colloquial[0].held_by("按月发放。")
    corpus = Corpus.of(retriever, index, 5)
    selector = train_selector(examples(), corpus, settings=settings, also=[(colloquial, corpus)])
    assert selector.meta["colloquial_questions"] == 10 and "colloquial" in selector.meta["trained_on"]
    # every tune-half formal question and every colloquial row has a span holding its answer
    assert selector.meta["training_questions"] == selector.meta["tune_questions"] + 10
    # the shipped file was trained the same way
    shipped = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    assert shipped["colloquial_questions"] > 100 and "hand_pick" in shipped["features"]


def test_a_bad_colloquial_line_is_named(tmp_path: Path) -> None:
    rows = tmp_path / "colloquial.jsonl"
    rows.write_text(
        '{"id": "a", "question": "失业金咋领", "corpus": "sample", "split": "tune", "expect": ["1710元"]}\n'
        '{"id": "b", "question": "没有 expect"}\n',
        encoding="utf-8",
    )
    with pytest.raises(IngestError, match="第2行"):
        load_colloquial(rows)
    rows.write_text(rows.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert load_colloquial(rows) == [Example("a", "失业金咋领", "", ("1710元",))]
    assert load_colloquial(rows, split="held") == []


def test_train_selector_command_without_the_colloquial_set_trains_on_the_formal_questions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    documents, questions = training_files(tmp_path)
    out = tmp_path / "selector.json"
    command = ["train-selector", "--documents", str(documents), "--questions", str(questions), "--out", str(out)]
    assert main([*command, "--colloquial", str(tmp_path / "missing.jsonl")]) == 0
    assert "只用正式问题训练" in capsys.readouterr().err
    assert Selector.from_json(out.read_text(encoding="utf-8")).meta["colloquial_questions"] == 0
