"""Output directories are owned: a command writes only into a folder it created or one its own kind
wrote before, and one process at a time holds it, so no command overwrites another's results."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from types import TracebackType
from typing import Any

from surfturf.errors import UserError
from surfturf.models.ledger import LEDGER_FILE

OWNER_FILE = ".surfturf-owner.json"
LOCK_FILE = ".lock"
# Files that say who owns a folder and what it spent, not what it produced: a folder holding only
# these is still empty to the command that claims it.
BOOKKEEPING = frozenset({OWNER_FILE, LOCK_FILE, LEDGER_FILE})
# Folders written before owner files existed say what wrote them in their manifest's `command`
# (the command's first words, with or without a leading `surfturf`).
LEGACY_COMMANDS = {"surf run": "surf-run", "index build": "index", "turf trace": "traces", "world build": "world",
                   "world train": "world-target", "robust": "robust", "steer": "steer", "ablate": "ablate",
                   "demo": "demo"}


def owner_of(path: Path) -> str | None:
    """The kind that owns `path`: its owner file, else its manifest's `kind` (or a known `command`)."""
    for name, field in ((OWNER_FILE, "kind"), ("manifest.json", "kind")):
        data = _read_json(path / name)
        if isinstance(data.get(field), str):
            return data[field]
    command = _read_json(path / "manifest.json").get("command")
    if not isinstance(command, str):
        return None
    words = command.split()
    words = words[1:] if words[:1] == ["surfturf"] else words
    return LEGACY_COMMANDS.get(" ".join(words[:2])) or LEGACY_COMMANDS.get(" ".join(words[:1]))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class DirLock:
    """An exclusive `flock` on DIR/.lock held for a command's life; the holder's PID is in the file."""

    def __init__(self, path: Path, kind: str, handle: Any, created: list[Path]) -> None:
        self.path = path
        self.kind = kind
        self._handle = handle
        self._created = created

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> DirLock:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
        if kind is not None:
            self._undo()

    def _undo(self) -> None:
        """A command that failed before writing anything leaves no folder behind that it created."""
        if not self._created or any(entry.name not in BOOKKEEPING for entry in self.path.iterdir()):
            return
        ledger = self.path / LEDGER_FILE
        if ledger.exists() and ledger.stat().st_size > 0:  # money was spent: its record stays
            return
        for name in BOOKKEEPING:
            (self.path / name).unlink(missing_ok=True)
        for folder in self._created:  # innermost first
            folder.rmdir()


def _check_place(path: Path) -> None:
    """Refuse a path that is a file, lies under a file, or cannot be written, before touching anything."""
    if path.exists() and not path.is_dir():
        raise UserError(f"{path} is a file, not a folder", "pass a folder path (a new one is created)")
    ancestor = path
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"{path} lies under {ancestor}, which is a file", "pass a folder path that is not inside a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(f"{ancestor} is not writable", "pass a folder you can write to, or fix its permissions")


def claim_dir(path: Path, kind: str, *, resume: bool) -> DirLock:
    """Create or reopen `path` for a command of `kind` and lock it; a UserError leaves it untouched.

    An existing non-empty folder must be owned by `kind`; `resume` says whether the command continues
    what is there (it only changes the advice given when the folder belongs to another kind).
    """
    path = Path(path)
    _check_place(path)
    if path.is_dir():
        owner = owner_of(path)
        contents = [entry.name for entry in path.iterdir() if entry.name not in BOOKKEEPING]
        if contents and owner != kind:
            holds = f"the output of `{owner}`" if owner else "files surfturf did not write"
            advice = "pass a new or empty folder" + (" (rerun into the folder it wrote to resume)" if resume else "")
            raise UserError(f"{path} holds {holds}, not a {kind} folder", advice)
    created = [folder for folder in (path, *path.parents) if not folder.exists()]
    path.mkdir(parents=True, exist_ok=True)
    handle = (path / LOCK_FILE).open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise UserError(f"{path} is in use by another surfturf process (PID {holder})",
                        "wait for it to finish or stop it, then rerun") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    if not (path / OWNER_FILE).exists():
        (path / OWNER_FILE).write_text(json.dumps({"kind": kind}) + "\n", encoding="utf-8")
    return DirLock(path, kind, handle, created)
