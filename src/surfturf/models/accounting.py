"""Usage per (role, model) and the hard budget caps that stop new calls."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np


CHARS_PER_TOKEN = 4  # the usual rough average for English text


def approx_tokens(chars: float) -> int:
    """Tokens in `chars` characters of text, roughly: for dry-run estimates and for reserving
    rate-limit capacity before a call, when no tokenizer is at hand."""
    return int(chars // CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Budget:
    """Hard caps; None means no cap. With a ledger they compare the directory's total, this process included."""

    max_calls: int | None = None
    max_total_tokens: int | None = None
    max_usd: float | None = None


@dataclass
class _Line:
    calls: int = 0
    cache_hits: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    price_known: bool = True
    latencies: list[float] = field(default_factory=list)


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 4) if values else None


class Usage:
    """Counts every call, hit and error; cache hits are free. Thread-safe so sessions can be shared."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: dict[tuple[str, str], _Line] = {}

    def _line(self, role: str, model: str) -> _Line:
        return self._lines.setdefault((role, model), _Line())

    def record_hit(self, role: str, model: str) -> None:
        with self._lock:
            self._line(role, model).cache_hits += 1

    def record_call(
        self,
        role: str,
        model: str,
        *,
        error: bool,
        input_tokens: int,
        output_tokens: int,
        cost_usd: float,
        latency_s: float,
        price_known: bool = True,
    ) -> None:
        with self._lock:
            line = self._line(role, model)
            line.calls += 1
            line.errors += int(error)
            line.input_tokens += input_tokens
            line.output_tokens += output_tokens
            line.cost_usd += cost_usd
            line.price_known = line.price_known and price_known
            line.latencies.append(latency_s)

    def totals(self) -> dict[str, Any]:
        with self._lock:
            lines = list(self._lines.values())
            latencies = [x for line in lines for x in line.latencies]
        return {
            "calls": sum(line.calls for line in lines),
            "cache_hits": sum(line.cache_hits for line in lines),
            "errors": sum(line.errors for line in lines),
            "input_tokens": sum(line.input_tokens for line in lines),
            "output_tokens": sum(line.output_tokens for line in lines),
            "cost_usd": round(sum(line.cost_usd for line in lines), 6),
            "latency_p50_s": _percentile(latencies, 50),
            "latency_p95_s": _percentile(latencies, 95),
        }

    def summary(self) -> dict[str, Any]:
        """The manifest's `usage`: one entry per (role, model) and the totals. Never holds keys or URLs."""
        with self._lock:
            items = sorted(self._lines.items())
            per_model = [
                {
                    "role": role,
                    "model": model,
                    "calls": line.calls,
                    "cache_hits": line.cache_hits,
                    "errors": line.errors,
                    "input_tokens": line.input_tokens,
                    "output_tokens": line.output_tokens,
                    "cost_usd": round(line.cost_usd, 6),
                    "price_known": line.price_known,
                    "latency_p50_s": _percentile(line.latencies, 50),
                    "latency_p95_s": _percentile(line.latencies, 95),
                }
                for (role, model), line in items
            ]
        return {"per_model": per_model, "total": self.totals()}


class BudgetGuard:
    """Reserves a call before it is made (so concurrent callers cannot overshoot max_calls) and trips for good."""

    def __init__(self, budget: Budget, prior: dict[str, Any] | None = None) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        prior = prior or {}
        self.calls_started = int(prior.get("calls", 0))
        self.tokens = int(prior.get("input_tokens", 0)) + int(prior.get("output_tokens", 0))
        self.usd = float(prior.get("cost_usd", 0.0))
        self.reason: str | None = None
        self._check_locked()

    def try_start(self) -> str | None:
        """None if the call may go ahead (and count it), else why not. The last allowed call trips the cap."""
        with self._lock:
            if self.reason is not None:
                return self.reason
            self.calls_started += 1
            self._check_locked()
            return None

    def add(self, tokens: int, usd: float) -> None:
        with self._lock:
            self.tokens += tokens
            self.usd += usd
            if self.reason is None:
                self._check_locked()

    def _check_locked(self) -> None:
        b = self.budget
        if b.max_calls is not None and self.calls_started >= b.max_calls:
            self.reason = f"call cap reached ({self.calls_started} of max {b.max_calls} calls)"
        elif b.max_total_tokens is not None and self.tokens >= b.max_total_tokens:
            self.reason = f"token cap reached ({self.tokens} of max {b.max_total_tokens} tokens)"
        elif b.max_usd is not None and self.usd >= b.max_usd:
            self.reason = f"cost cap reached (${self.usd:.4f} of max ${b.max_usd:.4f})"
