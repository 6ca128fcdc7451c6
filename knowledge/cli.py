"""Command line: ``python -m knowledge ingest|search|ask|show|history|diff|audit|check|retire|reindex|export|import|
eval|train-selector|terms``."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .backup import export_backup, import_backup
from .base import KnowledgeBase
from .checks import CHECK_LABELS, check_documents, count_by_check
from .document import Answer, Passage, parse_kind, parse_validity
from .errors import KnowledgeError
from .evaluation import evaluate, load_questions, peak_memory_mb
from .history import diff_versions, format_diff, pick_versions
from .index import HybridIndex
from .reader import KnowledgeReader
from .retrieval import Filters
from .selector import DEFAULT_PATH as SELECTOR_PATH
from .settings import Settings
from .store import DocumentStore, Version
from .terms import write_user_dictionary
from .writer import KnowledgeWriter, Progress

ROOT = Path(__file__).resolve().parents[1]
SHARED_NCP = ROOT.parent / "shared" / "data" / "ncp"  # the shared dev questions


def _progress(label: str) -> Progress:
    bars: dict[str, tqdm] = {}

    def update(done: int, total: int, stage: str) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=f"{label} {stage}", unit="doc", file=sys.stderr, leave=False)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def cli_actor() -> str:
    """Who the audit records for a change made from the command line: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # a container user without a passwd entry or login variables
        return f"cli:uid{os.getuid()}"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _version_json(v: Version) -> dict[str, Any]:
    return {
        "version": v.version,
        "action": v.action,
        "actor": v.actor,
        "changed_at": v.changed_at.isoformat(),
        "note": v.note,
        "validity": v.document.validity.value,
    }


def _passage_json(p: Passage) -> dict[str, Any]:
    return {
        "doc_id": p.doc_id,
        "chunk_id": p.chunk.id,
        "heading_path": list(p.chunk.heading_path),
        "text": p.chunk.text,
        "score": round(p.score, 4),
        "dense_score": p.dense_score,
        "bm25_score": p.bm25_score,
        "citation": asdict(p.citation),
    }


def _print_answer(answer: Answer, hotline: str) -> None:
    if not answer.answered or answer.citation is None:
        print(f"（未找到可靠答案，置信度 {answer.confidence:.2f}）请拨打{hotline}咨询。")
        return
    print(f"答：{answer.text}")
    print(f"出处：{answer.citation.format()}  置信度 {answer.confidence:.2f}")
    if answer.citation.replaced_by:
        print(f"注意：该文件已由 {answer.citation.replaced_by} 替代。")


def _filters(args: argparse.Namespace) -> Filters:
    kinds = tuple(parse_kind(k) for k in (args.kind or []))
    return Filters(include_retired=args.include_retired, kinds=kinds, regions=tuple(args.region or []))


def cmd_ingest(kb: KnowledgeWriter, args: argparse.Namespace) -> int:
    report = kb.ingest([Path(p) for p in args.paths], _progress("ingest"), actor=cli_actor())
    for error in report.errors:
        print(f"未导入 {error.path}：{error.reason}", file=sys.stderr)
    for problem in report.problems:
        print(f"跳过 {problem}", file=sys.stderr)
    for duplicate in report.duplicates:
        print(f"已导入，但 {duplicate}", file=sys.stderr)
    counts = {a: report.count(a) for a in ("created", "updated", "relabelled", "unchanged")}
    print(
        f"导入完成：新增 {counts['created']}，更新 {counts['updated'] + counts['relabelled']}，"
        f"未变 {counts['unchanged']}，失败文件 {len(report.errors)}，跳过记录 {len(report.problems)}"
    )
    return 1 if report.errors and not report.changes else 0


def cmd_search(kb: KnowledgeReader, args: argparse.Namespace) -> int:
    passages = kb.search(args.question, args.top_k, _filters(args))
    if args.json:
        print(json.dumps([_passage_json(p) for p in passages], ensure_ascii=False, indent=2, default=str))
        return 0
    if not passages:
        print("没有找到相关内容。")
    for rank, p in enumerate(passages, 1):
        print(f"{rank}. {p.citation.format()}  score={p.score:.3f}")
        print(f"   {' > '.join(p.chunk.heading_path)}" if p.chunk.heading_path else "", end="")
        print(f"   {p.chunk.text[:160]}")
    return 0


def cmd_ask(kb: KnowledgeReader, args: argparse.Namespace) -> int:
    if args.question:
        _print_answer(kb.answer(args.question, _filters(args)), kb.settings.service.hotline)
        return 0
    print("政策咨询（输入问题后回车，Ctrl-D 退出）")
    for line in sys.stdin:
        if line.strip():
            try:
                _print_answer(kb.answer(line.strip(), _filters(args)), kb.settings.service.hotline)
            except KnowledgeError as error:
                print(error.message)
        kb.refresh()
    return 0


def cmd_show(kb: KnowledgeWriter, args: argparse.Namespace) -> int:
    doc = kb.get(args.id)
    data = asdict(doc)
    data["history"] = [_version_json(v) for v in kb.history(doc.id)]
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_retire(kb: KnowledgeWriter, args: argparse.Namespace) -> int:
    validity = parse_validity(args.validity)
    change = kb.retire(args.id, validity, args.replaced_by or "", args.note or "", actor=cli_actor())
    print(f"{change.doc_id}：{change.action}（版本 {change.version}）")
    return 0


def cmd_reindex(kb: KnowledgeWriter, args: argparse.Namespace) -> int:
    if args.if_outdated:
        reason = HybridIndex.outdated(kb.index_dir, kb.settings.index.model)
        if reason is None:
            print("索引无需重建")
            return 0
        print(f"索引需要重建：{reason}")
    count = kb.reindex(_progress("reindex"))
    print(f"索引已重建：{count} 个片段")
    return 0


def cmd_history(store: DocumentStore, args: argparse.Namespace) -> int:
    history = store.history(args.id)
    if args.json:
        print(json.dumps([_version_json(v) for v in history], ensure_ascii=False, indent=2))
        return 0
    current = store.find(args.id)
    state = "当前" if current is not None else "已删除，历史保留"
    print(f"{args.id}（{state}）：{len(history)} 个版本")
    for v in history:
        note = f"  {v.note}" if v.note else ""
        print(
            f"  版本 {v.version}  {_when(v.changed_at)}  {v.action:<10} {v.actor or '（未记录）'}  "
            f"【{v.document.validity.value}】{note}"
        )
    return 0


def cmd_diff(store: DocumentStore, args: argparse.Namespace) -> int:
    old, new = pick_versions(store.history(args.id), args.old, args.new)
    diff = diff_versions(old, new)
    if args.json:
        data = {
            "doc_id": diff.doc_id,
            "old": _version_json(old),
            "new": _version_json(new),
            "fields": [asdict(c) for c in diff.fields],
            "body": list(diff.body),
            "sentences": [asdict(c) for c in diff.sentences],
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(format_diff(diff))
    return 0


def cmd_audit(store: DocumentStore, args: argparse.Namespace) -> int:
    since = datetime.combine(args.since, datetime.min.time(), UTC) if args.since else None
    changes = store.audit(actor=args.actor or "", since=since, limit=args.limit)
    if args.json:
        print(json.dumps([{"doc_id": v.doc_id, **_version_json(v)} for v in changes], ensure_ascii=False, indent=2))
        return 0
    if not changes:
        print("没有符合条件的修改记录。")
    for v in changes:
        note = f"  {v.note}" if v.note else ""
        print(f"{_when(v.changed_at)}  {v.actor or '（未记录）'}  {v.action:<10} {v.doc_id} 版本 {v.version}{note}")
    return 0


def cmd_check(store: DocumentStore, args: argparse.Namespace) -> int:
    """Disclosure findings; exit status 1 when there are any, so a scheduled job can alert on them."""
    findings = check_documents(store.all(), date.today())
    if args.json:
        print(json.dumps({"findings": [f.as_dict() for f in findings]}, ensure_ascii=False, indent=2))
        return 1 if findings else 0
    for f in findings:
        print(f"{f.doc_id}  {f.check}（{CHECK_LABELS[f.check]}）：{f.detail}")
    counts = "，".join(f"{CHECK_LABELS[c]} {n}" for c, n in count_by_check(findings).items() if n)
    print(f"共 {len(findings)} 项问题" + (f"：{counts}" if counts else "，符合公开要求"))
    return 1 if findings else 0


def cmd_export(store: DocumentStore, args: argparse.Namespace) -> int:
    manifest = export_backup(store, Path(args.dir), _progress("export"))
    print(f"已导出 {manifest.documents} 份文件、{manifest.versions} 个版本到 {args.dir}")
    return 0


def cmd_import(kb: KnowledgeWriter, args: argparse.Namespace) -> int:
    manifest = import_backup(kb, Path(args.dir), _progress("import"))
    print(f"已导入 {manifest.documents} 份文件、{manifest.versions} 个版本，索引已重建")
    return 0


def cmd_terms(kb: KnowledgeReader, args: argparse.Namespace) -> int:
    count = write_user_dictionary(kb.documents().values(), Path(args.out))
    print(f"已写入 {count} 个词条到 {args.out}")
    return 0


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    questions = load_questions(Path(args.questions))
    with tempfile.TemporaryDirectory(prefix="knowledge-eval-") as tmp:
        scratch = settings.model_copy(deep=True)
        scratch.store.url = f"sqlite:///{tmp}/eval.db"
        scratch.index.dir = Path(tmp) / "index"
        kb = KnowledgeBase.open(scratch)
        kb.ingest([Path(args.documents)], _progress("eval"))
        bar = tqdm(total=len(questions), desc="eval questions", file=sys.stderr, leave=False)
        result = evaluate(kb, questions, args.top_k, progress=lambda done, total: bar.update(1))
        bar.close()
        result["chunks"] = len(kb.index)
        result["peak_memory_mb"] = round(peak_memory_mb(), 1)
        kb.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key:>16}  {value}")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应写作 YYYY-MM-DD：{text}") from None


def cmd_train_selector(settings: Settings, args: argparse.Namespace) -> int:
    """Train the answer selector on annotated questions' tune half (BM25 retrieval, no embedding) and save it."""
    from .training import train_from_files  # scipy and the training code: only this command needs them

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.setdefault(stage, tqdm(total=total, desc=f"train-selector {stage}", file=sys.stderr, leave=False))
        bar.n = done
        bar.refresh()

    colloquial = Path(args.colloquial) if args.colloquial else None
    sample = Path(args.sample) if args.sample else None
    if colloquial is not None and not (colloquial.is_file() and sample is not None and sample.is_dir()):
        print(f"口语问题集 {colloquial} 或示例知识库 {sample} 不存在：只用正式问题训练", file=sys.stderr)
        colloquial = None
    selector = train_from_files(Path(args.documents), Path(args.questions), settings, progress, colloquial, sample)
    for bar in bars.values():
        bar.close()
    Path(args.out).write_text(selector.to_json(), encoding="utf-8")
    print(
        f"答案选择器已训练：正式问题 tune 半数 {selector.meta['tune_questions']} 个、口语问题 "
        f"{selector.meta['colloquial_questions']} 个（候选片段含答案、用于训练的 "
        f"{selector.meta['training_questions']} 个），写入 {args.out}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description="政策知识库：导入、检索、问答、评测")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="import files or folders (md, txt, html, docx, pdf, jsonl, csv, xlsx)")
    p.add_argument("paths", nargs="+")
    for name, helptext in (
        ("search", "show the best passages"),
        ("ask", "answer a question (no question: interactive)"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("question", nargs="?" if name == "ask" else None, default="")
        p.add_argument("--top-k", type=int, default=5)
        p.add_argument("--json", action="store_true")
        p.add_argument("--include-retired", action="store_true", help="also return 已废止 / 失效 documents")
        p.add_argument("--kind", action="append", help="policy, interpretation, faq, service_guide, notice")
        p.add_argument("--region", action="append")
    p = sub.add_parser("show", help="a document with its history")
    p.add_argument("id")
    p = sub.add_parser("history", help="every version of a document: when, who, what (deleted documents too)")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("diff", help="what changed between two versions (default: the last one and the one before)")
    p.add_argument("id")
    p.add_argument("old", nargs="?", type=int)
    p.add_argument("new", nargs="?", type=int)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("audit", help="every change to any document, newest first")
    p.add_argument("--actor", help="only this actor's changes, e.g. cli:wang")
    p.add_argument("--since", type=_day, help="only changes since this date (YYYY-MM-DD, UTC)")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("check", help="disclosure checks (exit status 1 when anything is found)")
    p.add_argument("--json", action="store_true", help='one object: {"findings": [{doc_id, check, detail}]}')
    p = sub.add_parser("export", help="back up every document and its whole history to a new folder")
    p.add_argument("dir")
    p = sub.add_parser("import", help="restore a backup into an empty store and rebuild the index")
    p.add_argument("dir")
    p = sub.add_parser("retire", help="relabel a document 已废止 / 失效 / 已修改")
    p.add_argument("id")
    p.add_argument("--validity", required=True)
    p.add_argument("--replaced-by")
    p.add_argument("--note")
    p = sub.add_parser("reindex", help="rebuild the index from the store (after changing the model or the chunker)")
    p.add_argument("--if-outdated", action="store_true", help="only when built for another model or an older chunker")
    p = sub.add_parser("terms", help="write a jieba user dictionary of the knowledge base's terms")
    p.add_argument("out")
    p = sub.add_parser("train-selector", help="train the answer selector on annotated questions (bounded: BM25 only)")
    p.add_argument("--documents", default=str(SHARED_NCP / "documents.jsonl"))
    p.add_argument("--questions", default=str(SHARED_NCP / "questions_dev.jsonl"), help="JSONL: id, question, answer")
    p.add_argument(
        "--colloquial", default=str(ROOT / "bench" / "data" / "colloquial.jsonl"),
        help="colloquial question set: its tune rows on the sample county train too ('' for none)",
    )
    p.add_argument("--sample", default=str(ROOT / "knowledge" / "sample"), help="the sample county's documents")
    p.add_argument("--out", default=str(SELECTOR_PATH))
    p = sub.add_parser("eval", help="measure retrieval and answers on annotated questions")
    p.add_argument("--documents", required=True)
    p.add_argument("--questions", required=True)
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    return parser


# the commands that only read open a reader over the published index and never touch the store
WRITER_COMMANDS = {
    "ingest": cmd_ingest,
    "show": cmd_show,
    "retire": cmd_retire,
    "reindex": cmd_reindex,
    "import": cmd_import,
}
READER_COMMANDS = {"search": cmd_search, "ask": cmd_ask, "terms": cmd_terms}
# these read the store only: no model, no index
STORE_COMMANDS: dict[str, Callable[[DocumentStore, argparse.Namespace], int]] = {
    "history": cmd_history,
    "diff": cmd_diff,
    "audit": cmd_audit,
    "check": cmd_check,
    "export": cmd_export,
}


def _run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command in STORE_COMMANDS:
        store = DocumentStore.open(settings.store.url)
        try:
            return STORE_COMMANDS[args.command](store, args)
        finally:
            store.close()
    if args.command in READER_COMMANDS:
        reader = KnowledgeReader.open(settings)
        try:
            return READER_COMMANDS[args.command](reader, args)
        finally:
            reader.close()
    writer = KnowledgeWriter.open(settings)
    try:
        return WRITER_COMMANDS[args.command](writer, args)
    finally:
        writer.close()


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """Entry point; returns the exit status (2 for a clear error)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    settings = settings or Settings()
    try:
        if args.command == "eval":
            return cmd_eval(settings, args)
        if args.command == "train-selector":
            return cmd_train_selector(settings, args)
        return _run(settings, args)
    except KnowledgeError as error:
        print(f"错误：{error.message}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file named on the command line that cannot be read
        print(f"错误：无法读取 {error.filename or ''}：{error.strerror or error}", file=sys.stderr)
        return 2
