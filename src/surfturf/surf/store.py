"""The run directory on disk: append-only JSONL that survives SIGKILL, and atomic JSON files."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temp file and os.replace, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl_atomic(path: Path, rows: list[dict[str, Any]]) -> None:
    """Replace a whole JSONL file atomically (for derived files such as findings.jsonl)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Complete JSON lines of a file; a torn last line (a kill mid-write) is skipped."""
    if not path.exists():
        return
    with path.open("r", encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                return
            if line.strip():
                yield json.loads(line)


class JsonlAppender:
    """An append-only JSONL file; each record is flushed and fsynced before `append` returns.

    Opening it first cuts a torn last line left by a kill, so the next record starts clean.
    `write` does the same from async code on one writer thread, so an fsync never stalls the
    event loop and records keep their order.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        _truncate_torn_tail(path)
        self._handle = path.open("a", encoding="utf-8")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"append-{path.name}")

    def append(self, record: dict[str, Any]) -> None:
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    async def write(self, record: dict[str, Any]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self.append, record)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._handle.close()


def _truncate_torn_tail(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as handle:
        data = handle.read()
        if data.endswith(b"\n"):
            return
        handle.truncate(data.rfind(b"\n") + 1)
