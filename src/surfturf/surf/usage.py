"""A run directory's usage across processes: a resumed sweep adds its own calls to the usage its
previous process left in manifest.json, so `usage` (and `counts.cost_usd`) is what the whole run cost."""

from __future__ import annotations

from typing import Any

ADDITIVE = ("calls", "cache_hits", "errors", "input_tokens", "output_tokens", "cost_usd")
LATENCY = ("latency_p50_s", "latency_p95_s")


def _add(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """One usage line: counts, tokens and cost add; latency percentiles are the latest measured."""
    merged = {name: (previous.get(name) or 0) + (current.get(name) or 0) for name in ADDITIVE}
    merged["cost_usd"] = round(merged["cost_usd"], 6)
    latest = current if current.get("calls") else previous
    merged.update({name: latest.get(name) for name in LATENCY})
    return merged


def usage_since(start: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """The calls a session made between two `session.usage.summary()`s: a sweep's own share of a
    session that served other work before it. Latency percentiles are the session's (raw
    latencies are not kept per interval)."""
    before = {(line["role"], line["model"]): line for line in start.get("per_model") or []}
    per_model = []
    for line in now.get("per_model") or []:
        earlier = before.get((line["role"], line["model"]), {})
        delta = {**line, **{name: (line.get(name) or 0) - (earlier.get(name) or 0) for name in ADDITIVE}}
        delta["cost_usd"] = round(delta["cost_usd"], 6)
        if delta["calls"] or delta["cache_hits"]:
            per_model.append(delta)
    first, last = start.get("total") or {}, now.get("total") or {}
    total = {**last, **{name: (last.get(name) or 0) - (first.get(name) or 0) for name in ADDITIVE}}
    total["cost_usd"] = round(total["cost_usd"], 6)
    return {"per_model": per_model, "total": total}


def merge_usage(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """`previous` (the manifest's `usage` before this process, or None) plus `current` (this process's
    `session.usage.summary()`), per (role, model) and in total.

    Calls, cache hits, errors, tokens and cost add, and `price_known` holds only where it held in
    both. Latency percentiles cannot be recomputed from earlier percentiles without the raw
    latencies, so each line (and the total) keeps this process's percentiles when it made calls
    on that line, and otherwise the previous process's: the latest measured, not over all processes.
    """
    previous = previous or {}
    lines: dict[tuple[str, str], dict[str, Any]] = {}
    for source in (previous.get("per_model") or [], current.get("per_model") or []):
        for line in source:
            key = (line["role"], line["model"])
            before = lines.get(key, {})
            merged = _add(before, line)
            lines[key] = {"role": key[0], "model": key[1], **merged,
                          "price_known": bool(before.get("price_known", True) and line.get("price_known", True))}
    per_model = [{name: line[name] for name in ("role", "model", *ADDITIVE, "price_known", *LATENCY)}
                 for _, line in sorted(lines.items())]
    return {"per_model": per_model, "total": _add(previous.get("total") or {}, current.get("total") or {})}
