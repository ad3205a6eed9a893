"""The spend ledger: one JSONL line per finished call in a run or index directory, so budgets span processes.

A line is appended (one O_APPEND write) as each call finishes, so a kill loses at most the calls in flight;
opening sums the lines already there. A torn last line from a kill is skipped.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from surfturf.errors import UserError

LEDGER_FILE = "spend.jsonl"
log = logging.getLogger("surfturf.models")


class SpendLedger:
    """Running totals of everything recorded in one ledger file, this process's calls included."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        self._read()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as error:
            raise UserError(f"cannot write spend ledger {self.path}: {error.strerror}",
                            "pass a writable run or index directory") from None

    def _read(self) -> None:
        if not self.path.is_file():
            return
        skipped = 0
        with self.path.open("rb") as handle:
            for raw in handle:
                try:
                    line = json.loads(raw)
                    calls, tokens_in = int(line["calls"]), int(line["input_tokens"])
                    tokens_out, cost = int(line["output_tokens"]), float(line["cost_usd"])
                except (ValueError, KeyError, TypeError):
                    skipped += 1
                    continue
                self.calls += calls
                self.input_tokens += tokens_in
                self.output_tokens += tokens_out
                self.cost_usd += cost
        if skipped:
            log.warning("spend ledger %s: skipped %d unreadable line(s) (a killed write)", self.path, skipped)

    def append(self, role: str, model: str, input_tokens: int, output_tokens: int, cost_usd: float,
               error: bool = False) -> None:
        """Record one finished call, on disk before this returns (page cache: survives the process, not the OS)."""
        record: dict[str, Any] = {"time": round(time.time(), 3), "role": role, "model": model, "calls": 1,
                                  "input_tokens": input_tokens, "output_tokens": output_tokens,
                                  "cost_usd": round(cost_usd, 9), "error": error}
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        with self._lock:
            os.write(self._fd, data)
            self.calls += 1
            self.input_tokens += input_tokens
            self.output_tokens += output_tokens
            self.cost_usd += cost_usd

    def totals(self) -> dict[str, Any]:
        with self._lock:
            return {"calls": self.calls, "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                    "cost_usd": round(self.cost_usd, 6)}

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
