"""Content-addressed SQLite cache of completions and embeddings, shared safely by several processes.

WAL with synchronous=NORMAL: an answer is committed before its result is returned (answers arriving
together share one transaction, written by a group-commit thread), so it survives the process being
killed right after; only an OS crash can lose the last commits.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from surfturf.errors import UserError

CACHE_MODES: tuple[str, ...] = ("read-write", "read-only", "off")
CACHE_FORMAT = 2  # part of every key: bump it when what a key covers changes, so old entries are never misread
FILE_NAME = "models.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    vector BLOB,
    created REAL NOT NULL
)
"""


def _settle(done: asyncio.Future[None], failure: BaseException | None) -> None:
    if done.done():
        return
    if failure is None:
        done.set_result(None)
    else:
        done.set_exception(failure)


def cache_key(parts: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of everything that determines an answer."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Cache:
    """get/put by key; `readable`/`writable` follow the mode. One connection, guarded for use from threads."""

    def __init__(self, directory: Path | None, mode: str = "read-write") -> None:
        if mode not in CACHE_MODES:
            raise UserError(f"unknown cache mode {mode!r}", f"use one of {', '.join(CACHE_MODES)}")
        self.mode = mode if directory is not None else "off"
        self.path = Path(directory) / FILE_NAME if directory is not None else None
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._opened = False
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None

    def _connect(self) -> sqlite3.Connection | None:
        """Open on first use, so a --dry-run or a cache-less command never creates the file."""
        if self._opened:
            return self._db
        self._opened = True
        if self.mode == "off" or self.path is None:
            return None
        if self.mode == "read-only" and not self.path.exists():
            self.mode = "off"  # nothing to read, and read-only must not create a file
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA busy_timeout=60000")
            if self.mode == "read-write":
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(_SCHEMA)
            else:
                db.execute("PRAGMA query_only=ON")
        except (OSError, sqlite3.DatabaseError) as error:
            raise UserError(f"cannot open model cache {self.path}: {error}",
                            "delete the file, pick another --cache-dir or pass --cache off") from None
        self._db = db
        return db

    @property
    def readable(self) -> bool:
        return self.mode != "off"

    @property
    def writable(self) -> bool:
        return self.mode == "read-write"

    def get(self, key: str) -> tuple[dict[str, Any], np.ndarray | None] | None:
        with self._lock:
            db = self._connect()
            if db is None:
                return None
            try:
                row = db.execute("SELECT payload, vector FROM entries WHERE key = ?", (key,)).fetchone()
            except sqlite3.OperationalError:  # read-only cache file without our table
                return None
        if row is None:
            return None
        vector = np.frombuffer(row[1], dtype=np.float32).copy() if row[1] is not None else None
        return json.loads(row[0]), vector

    async def put_async(self, key: str, payload: dict[str, Any]) -> None:
        """Commit one entry through the group-commit thread and resume once it is on disk: a burst of answers
        becomes one transaction, and the event loop keeps serving other calls while SQLite writes."""
        if not self.writable:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        row = (key, json.dumps(payload, ensure_ascii=False), None, time.time())
        with self._lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_loop, name="surfturf-cache-writer", daemon=True)
                self._writer.start()
            self._queue.put((row, loop, done))
        await done

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < 1024:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            failure: BaseException | None = None
            try:
                self._commit([row for row, _, _ in batch])
            except BaseException as error:  # handed to every waiting caller
                failure = error
            for _, loop, done in batch:
                if not loop.is_closed():
                    loop.call_soon_threadsafe(_settle, done, failure)

    def _commit(self, rows: list[tuple[Any, ...]]) -> None:
        with self._lock:
            db = self._connect()
            if db is None or not self.writable:
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT OR REPLACE INTO entries (key, payload, vector, created) VALUES (?, ?, ?, ?)", rows
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def put_many(self, items: list[tuple[str, dict[str, Any], np.ndarray | None]]) -> None:
        """Commit a batch in one transaction (embedding batches)."""
        if not self.writable or not items:
            return
        now = time.time()
        rows = [
            (key, json.dumps(payload, ensure_ascii=False),
             np.ascontiguousarray(vector, dtype=np.float32).tobytes() if vector is not None else None, now)
            for key, payload, vector in items
        ]
        self._commit(rows)

    def count(self) -> int:
        with self._lock:
            db = self._connect()
            if db is None:
                return 0
            try:
                return int(db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
            except sqlite3.OperationalError:
                return 0

    def close(self) -> None:
        writer = self._writer
        if writer is not None and writer.is_alive():
            self._queue.put(None)
            writer.join()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            self._opened = True  # a closed cache stays closed
