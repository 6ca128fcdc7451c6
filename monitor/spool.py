"""A spool: records that could not reach their database, kept on disk (fsynced) until a replay writes them.

Each process appends to its own file (``log-spool.<pid>.jsonl`` beside the configured ``log-spool.jsonl``),
so processes never interleave lines. A replay — one at a time per spool, across processes, under a lock
file — claims every process's file by renaming it (an appender that opened the old name notices and
reopens), applies its lines, and appends what still fails to its own file. A corrupt line is reported with
its file and line number, kept in ``<spool>.corrupt`` for a person to look at, and skipped.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CLAIMED = ".replaying"


class CorruptRecord(ValueError):
    """A spooled line that cannot be turned back into what was spooled."""


@dataclass(frozen=True)
class ReplayReport:
    """What one replay did."""

    applied: int = 0
    kept: int = 0
    corrupt: int = 0


class Spool:
    """JSON-lines records on disk, one file per process, replayed by whichever process holds the lock."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.own = base.with_name(f"{base.stem}.{os.getpid()}{base.suffix}")
        self.corrupt = base.with_name(f"{base.name}.corrupt")
        self._pattern = re.compile(rf"^{re.escape(base.stem)}(\.\d+)?{re.escape(base.suffix)}({CLAIMED})?$")
        self._replaying = threading.Lock()
        self._appending = threading.Lock()  # separate: a replay appends what it keeps

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Add records to this process's file and fsync it; raises OSError when the disk refuses."""
        lines = [json.dumps(record, ensure_ascii=False, default=str) for record in records]
        self._append_lines(self.own, lines)

    def files(self) -> list[Path]:
        """Every file of this spool: each process's, the single file of older versions, claimed leftovers."""
        if not self.base.parent.is_dir():
            return []
        return sorted(p for p in self.base.parent.iterdir() if self._pattern.match(p.name))

    def pending(self) -> int:
        """How many records wait in the spool's files (not counted twice while this process replays them)."""
        with self._replaying:
            return sum(_count(path) for path in self.files())

    def replay(self, revive: Callable[[dict[str, Any]], Any], apply: Callable[[Any], None]) -> ReplayReport:
        """Apply every spooled record; once ``apply`` fails, the rest is kept without being tried."""
        applied = kept = corrupt = 0
        failing = False
        self.base.parent.mkdir(parents=True, exist_ok=True)
        with self._replaying, open(self.base.with_name(f"{self.base.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for path in self.files():
                claimed = path if path.name.endswith(CLAIMED) else self._claim(path)
                if claimed is None:
                    continue
                keep: list[str] = []
                bad: list[str] = []
                for number, raw in enumerate(_lines(claimed.read_bytes()), 1):
                    if failing:
                        keep.append(raw.decode("utf-8", errors="replace"))
                        continue
                    try:
                        line = raw.decode("utf-8")
                        item = revive(json.loads(line))
                    except (ValueError, KeyError, TypeError) as error:
                        log.error("%s:%d: corrupt spool line skipped (%s)", path, number, error)
                        bad.append(raw.decode("utf-8", errors="replace"))
                        continue
                    try:
                        apply(item)
                        applied += 1
                    except Exception as error:  # noqa: BLE001 - whatever the cause, the record stays spooled
                        log.warning("spool replay stopped at %s:%d: %s", path, number, type(error).__name__)
                        failing = True
                        keep.append(line)
                self._append_lines(self.own, keep)
                self._append_lines(self.corrupt, bad)
                claimed.unlink()
                kept += len(keep)
                corrupt += len(bad)
        return ReplayReport(applied, kept, corrupt)

    def _claim(self, path: Path) -> Path | None:
        """Rename a file for replay while holding its lock, so no append lands in it afterwards."""
        claimed = path.with_name(path.name + CLAIMED)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.replace(path, claimed)
        finally:
            os.close(fd)
        return claimed

    def _append_lines(self, path: Path, lines: list[str]) -> None:
        if not lines:
            return
        data = "".join(f"{line}\n" for line in lines).encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._appending:
            while True:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    if _same_file(fd, path):  # not renamed away by a replay while we waited
                        os.write(fd, data)
                        os.fsync(fd)
                        return
                finally:
                    os.close(fd)



def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _count(path: Path) -> int:
    try:
        return len(_lines(path.read_bytes()))
    except FileNotFoundError:  # another process's replay took it meanwhile
        return 0


def _lines(data: bytes) -> list[bytes]:
    return [line for line in data.split(b"\n") if line.strip()]
