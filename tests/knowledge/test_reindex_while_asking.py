"""A full rebuild of the index (``python -m knowledge reindex`` in another process) while citizens keep asking:
not one question fails, questions asked during the rebuild are answered from the old index, later ones from the
new one, and the readers switch without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from knowledge.embedding import Embedder
from knowledge.reader import KnowledgeReader

from ..conftest import copy_sample
from .test_reader import wait_until, writer_holds_the_lock

ROOT = Path(__file__).resolve().parents[2]
PAUSE_S = 0.05  # between questions: continuous asking that still leaves the 2 cores to the rebuild
# each question with the documents a right answer cites: the policy or its 解读 (an interpretation has no 文号)
QUESTIONS = [
    (
        "个人创业担保贷款最高能贷多少？",
        {"qh-policy-entrepreneurship-loan-2023", "qh-interp-entrepreneurship-loan-2023"},
    ),
    (
        "城乡居民医保个人缴费标准",
        {"qh-policy-resident-medical-insurance-2025", "qh-interp-resident-medical-insurance-2025"},
    ),
]


def test_every_question_is_answered_while_another_process_rebuilds_the_index(
    sample_template: Path, tmp_path: Path, embedder: Embedder
) -> None:
    settings = copy_sample(sample_template, tmp_path / "kb")
    reader = KnowledgeReader(settings, embedder)
    reader.refresh(strict=True)
    reader.start(0.05)
    old = reader.generation
    assert old is not None
    answers: list[
        tuple[str, str, str, float, bool]
    ] = []  # generation, question, document cited, seconds, during the rebuild
    errors: list[str] = []
    rebuilding = threading.Event()
    stop = threading.Event()

    def citizen() -> None:
        asked = 0
        while not stop.is_set():
            question, _ = QUESTIONS[asked % len(QUESTIONS)]
            asked += 1
            pinned = reader.pinned()  # one generation for the whole answer, recorded with it
            started = time.perf_counter()
            try:
                answer = pinned.answer(question)
            except Exception as error:  # counted, not raised: the test says how many failed and why
                errors.append(f"{question}: {error!r}")
                continue
            generation = pinned.generation.name if pinned.generation else ""
            cited = answer.citation.doc_id if answer.answered and answer.citation else ""
            answers.append((generation, question, cited, time.perf_counter() - started, rebuilding.is_set()))
            stop.wait(PAUSE_S)

    env = dict(os.environ, POLICY_STORE__URL=settings.store.url, POLICY_INDEX__DIR=str(settings.index.dir))
    asking = threading.Thread(target=citizen, name="citizen")
    asking.start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "knowledge", "reindex"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert wait_until(lambda: writer_holds_the_lock(settings.index.dir) or proc.poll() is not None, timeout=120)
        rebuilding.set()
        out, err = proc.communicate(timeout=900)
        rebuilding.clear()
        assert proc.returncode == 0, err
        assert "索引已重建" in out
        assert wait_until(lambda: reader.generation != old, timeout=30)
        new = reader.generation
        assert new is not None
        assert wait_until(lambda: any(a[0] == new.name for a in answers), timeout=30)
    finally:
        stop.set()
        asking.join(timeout=60)
        reader.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    during = [a for a in answers if a[4]]
    print(f"{len(answers)} answers, {len(during)} during the rebuild, slowest {max(a[3] for a in answers):.2f} s")
    assert errors == []
    assert any(a[0] == old.name for a in during)  # the old index kept serving while the new one was built
    assert {a[0] for a in answers} == {old.name, new.name}  # published once, at the end: no generation between
    expected = dict(QUESTIONS)
    wrong = [a for a in answers if a[2] not in expected[a[1]]]
    assert wrong == [], f"{len(wrong)} of {len(answers)} answers did not cite the right policy: {wrong[:3]}"
