"""The files every output directory is written with: append-only JSONL that survives SIGKILL,
atomic text, JSON and JSONL files, and content hashes for manifests.

Every writer passes its text through `redact`, so a key echoed in a server's error body never
reaches a file."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from surfturf.errors import UserError
from surfturf.models.redact import redact


def _read_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


# Read once at import: os.umask can only be read by setting it, which would briefly give files
# created meanwhile by other threads (cache, appenders) a mode of 0666.
_UMASK = _read_umask()


def public_mode() -> int:
    """The mode an ordinary new file gets under the process umask (mkstemp alone would give 0600)."""
    return 0o666 & ~_UMASK


def _write_atomic(path: Path, write: Callable[[TextIO], None]) -> None:
    """Write through a synced temp file and os.replace, so a crash leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, public_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Replace a text file atomically (reports, YAML, CSV)."""
    _write_atomic(path, lambda handle: handle.write(redact(text)))


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temp file and os.replace, so a reader never sees half a file."""
    def write(handle: TextIO) -> None:
        handle.write(redact(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")

    _write_atomic(path, write)


def write_jsonl_atomic(path: Path, rows: Iterable[dict[str, Any]], *, ensure_ascii: bool = False) -> int:
    """Replace a whole JSONL file atomically (derived files such as findings.jsonl); returns the row count.

    `ensure_ascii=True` keeps U+2028/U+0085 out of lines, for readers that split with `str.splitlines`.
    """
    count = 0

    def write(handle: TextIO) -> None:
        nonlocal count
        for row in rows:
            handle.write(redact(json.dumps(row, ensure_ascii=ensure_ascii)) + "\n")
            count += 1

    _write_atomic(path, write)
    return count


def sha256_file(path: Path) -> str | None:
    """The sha256 of a file's bytes for manifest `inputs`, read in blocks; None when it is not a file."""
    path = Path(path)
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Complete JSON lines of a file; a torn last line (a kill mid-write) is skipped.

    A complete line that is not JSON was not written by us (a hand edit, another tool), so it is
    a `UserError` naming the file and line rather than a traceback.
    """
    if not path.exists():
        return
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith("\n"):
                return
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise UserError(f"{path} line {number} is not valid JSON ({error.msg})",
                                    "restore the file, or write the output to a new folder") from None


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
        self._handle.write(redact(json.dumps(record, ensure_ascii=False)) + "\n")
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
