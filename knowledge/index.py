"""The hybrid index: FAISS vectors and BM25 over jieba tokens, persisted atomically with a manifest."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from .chunking import CHUNKER_VERSION
from .document import Chunk, Document, document_from_record, document_record
from .errors import IndexMismatch
from .text import TOKENIZER_VERSION, tokenize

log = logging.getLogger(__name__)

# One query against a flat index of tens of thousands of vectors gains nothing from threads, and FAISS's
# OpenMP workers would spin against the embedding engine's own on a 2-core machine (bench/tune.py:
# search + answer p50 39.9 → 36.8 ms, p95 59.9 → 56.2 ms on the shared corpus).
faiss.omp_set_num_threads(1)

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
DOCUMENTS = "documents.jsonl"
KEEP_GENERATIONS = 3  # a reader still loading an older generation finds it on disk
EMPTY_TOKEN = ""  # what BM25 indexes for a chunk without tokens (bm25s's own empty token)
VOCABULARY_SLACK = 2  # token ids are renumbered once they outnumber the live terms this many times over


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as written:
        os.fsync(written.fileno())


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write text lines and fsync them before returning."""
    with open(path, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())


def _count_lines(path: Path) -> int:
    with open(path, "rb") as lines:
        return sum(1 for line in lines if line.strip())


class TokenIds:
    """Each token's id and each chunk's tokens as ids, kept across the generations a reader loads.

    Building BM25 from strings (bm25s) converts every token of every chunk to an id, and the document
    frequencies and the typo vocabulary read every token again: most of a reload's CPU, on the cores that
    answer citizens. A chunk whose tokens are the same as in the last generation (most of them during an
    ingest) keeps its ids; only new chunks are converted. An entry is reused only for equal tokens, and
    BM25 scores do not depend on which id a token has, so no search result changes. bm25s takes ids with
    their vocabulary but keeps no state between two builds, hence this cache.
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {EMPTY_TOKEN: 0}  # insertion order is id order
        self._chunks: dict[int, tuple[list[str], list[int], np.ndarray]] = {}  # fid → tokens, ids, distinct ids
        self._live_terms = 0
        self._lock = threading.Lock()  # a lazily built index may be searched from two threads at once

    def convert(self, tokens: Mapping[int, list[str]]) -> tuple[dict[int, list[int]], dict[str, int], np.ndarray]:
        """Every chunk's token ids (by fid), a copy of the vocabulary they index (a BM25 keeps it), and each
        id's document frequency: in how many of these chunks it occurs."""
        with self._lock:
            if len(self._ids) > VOCABULARY_SLACK * self._live_terms + 4096:
                # tokens of chunks long gone: start afresh, so the vocabulary and BM25's columns stay small
                self._ids, self._chunks = {EMPTY_TOKEN: 0}, {}
            self._chunks = {fid: entry for fid, entry in self._chunks.items() if fid in tokens}
            ids, distinct = {}, []
            for fid, chunk_tokens in tokens.items():
                entry = self._chunks.get(fid)
                if entry is None or entry[0] != chunk_tokens:
                    vocabulary = self._ids
                    converted = [vocabulary.setdefault(t, len(vocabulary)) for t in chunk_tokens]
                    entry = (chunk_tokens, converted, np.unique(np.asarray(converted, dtype=np.int64)))
                    self._chunks[fid] = entry
                ids[fid] = entry[1]
                distinct.append(entry[2])
            counts = np.concatenate(distinct) if distinct else np.zeros(0, dtype=np.int64)
            frequencies = np.bincount(counts, minlength=len(self._ids))
            self._live_terms = int(np.count_nonzero(frequencies))
            return ids, dict(self._ids), frequencies


class HybridIndex:
    """Chunks with their dense vectors (FAISS, inner product on unit vectors) and BM25 tokens."""

    def __init__(self, model: str, dim: int) -> None:
        if dim <= 0:
            raise ValueError("embedding dimension must be positive")
        self.model = model
        self.dim = dim
        self.vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.chunks: dict[int, Chunk] = {}
        self.tokens: dict[int, list[str]] = {}
        self.doc_rows: dict[str, list[int]] = {}
        self.doc_hashes: dict[str, str] = {}
        self.next_id = 0
        self._bm25: bm25s.BM25 | None = None
        self._bm25_ids = np.zeros(0, dtype=np.int64)
        self._df: dict[str, int] = {}  # chunk frequency of every token the chunks hold
        # a reader sets its own, shared by the generations it loads (knowledge.reader)
        self.token_ids = TokenIds()  # DocumentBM25 (knowledge.retrieval) converts through it too

    def __len__(self) -> int:
        return len(self.chunks)

    def put_document(
        self, doc_id: str, content_hash: str, chunks: list[Chunk], tokens: list[list[str]], vectors: np.ndarray
    ) -> None:
        """Replace whatever the index holds for a document with these chunks."""
        if len(chunks) != len(tokens) or len(chunks) != len(vectors):
            raise ValueError("chunks, tokens and vectors must line up")
        if len(vectors) and vectors.shape[1] != self.dim:
            raise IndexMismatch(f"vectors have dimension {vectors.shape[1]}, the index {self.dim}")
        self.remove_document(doc_id)
        ids = np.arange(self.next_id, self.next_id + len(chunks), dtype=np.int64)
        self.next_id += len(chunks)
        if len(chunks):
            self.vectors.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        for fid, chunk, toks in zip(ids.tolist(), chunks, tokens, strict=True):
            self.chunks[fid] = chunk
            self.tokens[fid] = toks
        self.doc_rows[doc_id] = ids.tolist()
        self.doc_hashes[doc_id] = content_hash
        self._bm25 = None

    def remove_document(self, doc_id: str) -> None:
        """Drop a document's chunks; unknown ids are ignored."""
        rows = self.doc_rows.pop(doc_id, [])
        self.doc_hashes.pop(doc_id, None)
        if rows:
            self.vectors.remove_ids(faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64)))
            for fid in rows:
                self.chunks.pop(fid, None)
                self.tokens.pop(fid, None)
            self._bm25 = None

    def _ensure_bm25(self) -> None:
        if self._bm25 is not None:
            return
        ids = np.fromiter(self.chunks.keys(), dtype=np.int64, count=len(self.chunks))
        token_ids, vocabulary, frequencies = self.token_ids.convert({fid: self.tokens[fid] for fid in ids.tolist()})
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        if len(ids):
            empty = vocabulary[EMPTY_TOKEN]
            bm25.index(([token_ids[fid] or [empty] for fid in ids.tolist()], vocabulary), show_progress=False)
        else:
            bm25.index([[EMPTY_TOKEN]], show_progress=False)
        self._bm25, self._bm25_ids = bm25, ids
        # every id is its token's position in the vocabulary; the empty token counts nowhere (no chunk holds it)
        self._df = {t: n for t, n in zip(vocabulary, frequencies.tolist(), strict=True) if n and t != EMPTY_TOKEN}

    def terms(self) -> Iterable[str]:
        """Every distinct token the chunks hold."""
        self._ensure_bm25()
        return self._df.keys()

    def idf(self, token: str) -> float:
        """Inverse chunk frequency of a token (high for rare, topical words)."""
        self._ensure_bm25()
        return math.log(1.0 + (len(self.chunks) + 1) / (self._df.get(token, 0) + 0.5))

    def search_dense(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(faiss id, cosine) of the k nearest chunks, restricted to ``allowed`` ids when given."""
        if not self.chunks or (allowed is not None and len(allowed) == 0):
            return []
        params = None
        selector = None  # kept referenced for the duration of the search
        if allowed is not None:
            selector = faiss.IDSelectorBatch(allowed.astype(np.int64))
            params = faiss.SearchParameters()
            params.sel = selector
        k = min(k, len(self.chunks) if allowed is None else len(allowed))
        row = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self.vectors.search(row, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def search_bm25(self, tokens: list[str], k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(faiss id, BM25 score) of the k best chunks with a positive score."""
        if not self.chunks or not tokens:
            return []
        self._ensure_bm25()
        assert self._bm25 is not None
        scores = self._bm25.get_scores(tokens)[: len(self._bm25_ids)]
        if allowed is not None:
            scores = np.where(np.isin(self._bm25_ids, allowed), scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(self._bm25_ids[i]), float(scores[i])) for i in top if scores[i] > 0]

    def rows_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        """Faiss ids of the given documents' chunks."""
        rows = [fid for doc_id in doc_ids for fid in self.doc_rows.get(doc_id, [])]
        return np.asarray(rows, dtype=np.int64)

    # -- persistence -------------------------------------------------------------------------

    def save(self, directory: Path, documents: Mapping[str, Document] | None = None, revision: int = 0) -> Path:
        """Write a self-contained generation (vectors, chunks, documents, manifest), fsync it, then switch
        CURRENT to it atomically; returns the generation path.

        ``documents`` (with their metadata) travel with the chunks so readers answer, citations included,
        without the store; ``revision`` is the store revision the generation reflects.
        """
        directory.mkdir(parents=True, exist_ok=True)
        name = f"gen-{time.time_ns()}"
        tmp = directory / f".tmp-{name}"
        tmp.mkdir()
        faiss.write_index(self.vectors, str(tmp / VECTORS))
        _fsync_file(tmp / VECTORS)
        _write_lines(tmp / CHUNKS, (self._chunk_record(fid, chunk) for fid, chunk in self.chunks.items()))
        docs = documents or {}
        _write_lines(tmp / DOCUMENTS, (document_record(docs[i]) for i in sorted(docs)))
        manifest = {
            "format": FORMAT_VERSION, "model": self.model, "dim": self.dim, "count": len(self.chunks),
            "next_id": self.next_id, "documents": self.doc_hashes, "created_at": time.time(),
            "tokenizer": TOKENIZER_VERSION, "chunker": CHUNKER_VERSION, "revision": revision,
            "document_count": len(docs),
        }
        _write_lines(tmp / MANIFEST, [json.dumps(manifest, ensure_ascii=False)])
        _fsync_dir(tmp)  # every file and the directory entry are on disk before anything points at them
        os.rename(tmp, directory / name)
        _fsync_dir(directory)
        pointer = directory / f"{CURRENT}.tmp"
        _write_lines(pointer, [name])
        os.replace(pointer, directory / CURRENT)
        _fsync_dir(directory)
        _prune(directory, keep=name)
        return directory / name

    def _chunk_record(self, fid: int, chunk: Chunk) -> str:
        record = {
            "fid": fid, "id": chunk.id, "doc_id": chunk.doc_id, "position": chunk.position,
            "text": chunk.text, "title": chunk.title, "heading_path": list(chunk.heading_path),
            "tokens": self.tokens[fid],
        }
        return json.dumps(record, ensure_ascii=False)

    @staticmethod
    def outdated(directory: Path, model: str) -> str | None:
        """Why the CURRENT generation must be rebuilt (another model, an older chunker), or None."""
        generation = current_generation(directory)
        if generation is None:
            return None
        return _outdated(json.loads((generation / MANIFEST).read_text(encoding="utf-8")), model)

    @classmethod
    def load(
        cls, directory: Path, model: str, generation: Path | None = None, require_documents: bool = True
    ) -> HybridIndex:
        """Load the CURRENT generation (or the one given); refuse one that fails ``check_generation``."""
        generation = generation or current_generation(directory)
        if generation is None:
            raise FileNotFoundError(f"no index in {directory}")
        manifest = check_generation(generation, model, require_documents)
        index = cls(model, manifest.dim)
        index.vectors = faiss.read_index(str(generation / VECTORS))  # type: ignore[assignment]
        with open(generation / CHUNKS, encoding="utf-8") as lines:
            for line in lines:
                r = json.loads(line)
                chunk = Chunk(r["id"], r["doc_id"], r["position"], r["text"], r["title"], tuple(r["heading_path"]))
                index.chunks[r["fid"]] = chunk
                index.tokens[r["fid"]] = r["tokens"]
                index.doc_rows.setdefault(r["doc_id"], []).append(r["fid"])
        if index.vectors.ntotal != manifest.count or len(index.chunks) != manifest.count:
            raise IndexMismatch(f"index at {generation} changed while it was read; the manifest says {manifest.count}")
        if manifest.tokenizer != TOKENIZER_VERSION:
            log.warning("index at %s was tokenised by an older version; re-tokenising its chunks", generation)
            index.tokens = {fid: tokenize(chunk.indexed_text) for fid, chunk in index.chunks.items()}
        index.doc_hashes = dict(manifest.documents)
        index.next_id = manifest.next_id
        return index


@dataclass(frozen=True)
class Manifest:
    """What a generation says about itself; ``check_generation`` verifies its files agree."""

    generation: Path
    format: int
    model: str
    dim: int
    count: int
    next_id: int
    documents: Mapping[str, str]  # doc id → content hash of what was embedded
    revision: int  # the store revision this generation reflects
    document_count: int | None  # documents carried with their metadata (None: written before they were)
    tokenizer: int
    chunker: int
    created_at: float


def read_manifest(generation: Path) -> Manifest:
    """The generation's manifest as written (no checks)."""
    raw = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    return Manifest(
        generation=generation, format=raw.get("format", 0), model=raw["model"], dim=int(raw["dim"]),
        count=int(raw["count"]), next_id=int(raw["next_id"]), documents=dict(raw["documents"]),
        revision=int(raw.get("revision", 0)), document_count=raw.get("document_count"),
        tokenizer=raw.get("tokenizer", 0), chunker=raw.get("chunker", 1), created_at=float(raw.get("created_at", 0)),
    )


def check_generation(generation: Path, model: str, require_documents: bool = True) -> Manifest:
    """The compatibility check readers and ``/healthz`` share: format, model, chunker, the documents with
    their metadata, and the vector, chunk and document counts against the manifest. Raises IndexMismatch.

    A writer passes ``require_documents=False``: it upgrades an older generation from the store, cheaply.
    """
    manifest = read_manifest(generation)
    if require_documents and manifest.document_count is None:
        raise IndexMismatch(
            f"index at {generation} carries no documents with their metadata (written by an older version); "
            "`python -m knowledge ingest` or any other write adds them"
        )
    if manifest.format != FORMAT_VERSION:
        raise IndexMismatch(f"index at {generation} has format {manifest.format}, expected {FORMAT_VERSION}")
    reason = _outdated({"model": manifest.model, "chunker": manifest.chunker}, model)
    if reason:
        raise IndexMismatch(f"index at {generation} {reason}; rebuild it with `python -m knowledge reindex`")
    vectors = faiss.read_index(str(generation / VECTORS), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    if vectors.d != manifest.dim or vectors.ntotal != manifest.count:
        raise IndexMismatch(
            f"index at {generation}: manifest says {manifest.count} vectors of dimension {manifest.dim}, "
            f"the FAISS file holds {vectors.ntotal} of dimension {vectors.d}"
        )
    chunks = _count_lines(generation / CHUNKS)
    if chunks != manifest.count:
        raise IndexMismatch(f"index at {generation}: {chunks} chunks but the manifest says {manifest.count}")
    if manifest.document_count is not None:
        documents = _count_lines(generation / DOCUMENTS)
        if documents != manifest.document_count:
            raise IndexMismatch(
                f"index at {generation}: {documents} documents but the manifest says {manifest.document_count}"
            )
    return manifest


def read_documents(generation: Path) -> dict[str, Document] | None:
    """The documents a generation carries with their metadata, or None for one written before they were."""
    path = generation / DOCUMENTS
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as lines:
        docs = (document_from_record(line) for line in lines if line.strip())
        return {doc.id: doc for doc in docs}


def current_generation(directory: Path) -> Path | None:
    """The generation CURRENT points at, or None when there is no complete index yet."""
    try:
        name = (directory / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = directory / name
    return path if (path / MANIFEST).is_file() else None


def _prune(directory: Path, keep: str) -> None:
    """Remove older generations and leftovers of interrupted writes, keeping the newest few."""
    generations = sorted(p for p in directory.glob("gen-*") if p.is_dir())
    others = [p for p in generations if p.name != keep]
    stale = others[: max(0, len(others) - (KEEP_GENERATIONS - 1))]
    stale += [p for p in directory.glob(".tmp-gen-*") if p.is_dir()]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)


def _outdated(manifest: dict[str, Any], model: str) -> str | None:
    if manifest["model"] != model:
        return f"was built with model {manifest['model']!r} but the setting POLICY_INDEX__MODEL is {model!r}"
    chunker = manifest.get("chunker", 1)
    if chunker != CHUNKER_VERSION:
        return f"was chunked by version {chunker} of the chunker, this code chunks by version {CHUNKER_VERSION}"
    return None
