"""Small but complete run directories in the CONTRACTS.md formats, for tests and previews.

The text fields carry hostile payloads (script tags, closing tags, event handlers) so every
test of the report also checks that model and user text is escaped and never runs.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from surfturf.io.files import write_jsonl_atomic
from surfturf.turf.trace_files import trace_manifest, write_traces

# Each payload, if it ever ran, would leave a trace the browser test looks for:
# a global `__pwned`, a `data-pwned` attribute on <body>, a dialog, or a console line.
PAYLOADS: tuple[str, ...] = (
    "<script>window.__pwned=1;alert('xss-1')</script>",
    "</textarea><img src=x onerror=\"window.__pwned=2;document.body.setAttribute('data-pwned','2')\">",
    "</script><script>window.__pwned=3;console.log('pwned-3')</script>",
    "<svg onload=\"window.__pwned=4;alert('xss-4')\"></svg>",
    "\"><iframe srcdoc=\"<script>parent.__pwned=5</script>\"></iframe>",
    "{{ 7*7 }} &amp; <b onmouseover=alert(6)>bold?</b> \u2028 line separator",
)

ATTRIBUTES: tuple[str, ...] = (
    "The query uses formal, elaborate vocabulary",
    "The query contains LaTeX math",
    "The query asks when a person invented something",
    "The query is a two-part numbered question",
    "The query frames the task as data extraction",
    "The query is written in Malay",
    "The query mentions a phone model",
    "The query contains <img src=x onerror=\"window.__pwned=7\"> markup",
    "The query costs $5 and uses $x^$ unbalanced TeX",
)

QUERIES: tuple[str, ...] = (
    "Elucidate the concept of peace in the works of Kant.",
    "When did Benjamin Franklin invent the lightning rod?",
    "Compute $\\int_0^1 x^2\\,dx$ and explain.",
    "1. What is 12*7? 2. Is 84 even?",
    "You will be shown a passage. Context: the sky is blue. Is the sky green?",
    "Apakah ibu kota Malaysia?",
    "What colours does the iPhone 13 come in?",
)


def _candidate(rng: random.Random, run: int, iteration: int, index: int) -> dict[str, Any]:
    """One candidate record; a few carry payloads, one in every nine is a judge error."""
    k = rng.randint(1, 3)
    attributes = rng.sample(ATTRIBUTES, k)
    query = rng.choice(QUERIES)
    response = "Here is some Python:\n```python\nimport sympy\nprint(sympy.pi)\n```"
    reason = "The response writes code although the user asked for an explanation."
    if (run + iteration + index) % 3 == 0:
        payload = PAYLOADS[(iteration * 7 + index + run) % len(PAYLOADS)]
        query = f"{query} {payload}"
        response = f"{response}\n{payload}"
        reason = f"{reason} Quoted: {payload}"
    error = None
    score: float | None = round(min(100.0, max(0.0, rng.gauss(30 + 12 * iteration, 18))), 1)
    if (run * 31 + iteration * 7 + index) % 9 == 4:
        error, score, reason = "judge: no <score> tag in '<scor>91'", None, None
    return {
        "id": f"r{run}-i{iteration}-c{index}", "run": run, "iteration": iteration, "index": index,
        "attributes": attributes, "query": query, "response": response, "score": score,
        "reason": reason, "violation": score is not None and score > 50,
        "judges": [{"model": "world/judge", "score": score, "reason": reason, "error": error}],
        "error": error, "tokens": {"input": 120 + index, "output": 80 + iteration},
        "cost_usd": 0.0004, "time_s": round(0.2 + 0.01 * index, 3),
    }


def _iteration_record(run: int, iteration: int, scored: list[dict[str, Any]], errors: int,
                      buffer: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-iteration statistics, with buffer-derived attribute weights as the loop computes them."""
    weights: dict[str, float] = {}
    for entry in buffer:
        for attribute in entry["attributes"]:
            weights[attribute] = weights.get(attribute, 0.0) + float(entry["score"])
    total = sum(weights.values()) or 1.0
    top = sorted(((a, round(w / total, 4)) for a, w in weights.items()), key=lambda x: -x[1])[:10]
    scores = [float(c["score"]) for c in scored]
    return {
        "run": run, "iteration": iteration, "best_score": max(scores) if scores else None,
        "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
        "n_scored": len(scores), "n_errors": errors,
        "violations": sum(1 for c in scored if c["violation"]),
        "top_weights": [[a, p] for a, p in top], "buffer": [c["id"] for c in buffer],
        "calls": 3 * (len(scored) + errors), "cost_usd": round(0.0012 * (len(scored) + errors), 6),
    }


def write_sample_run(path: Path, *, seed: int = 0, rubric: str = "code", runs: int = 2,
                     iterations: int = 4, candidates: int = 6, buffer_size: int = 3,
                     traces: bool = True, robust: bool = True, steer: bool = True) -> Path:
    """Write a SURF run directory (plus traces, robust and steer files) following CONTRACTS.md."""
    rng = random.Random(seed)
    path.mkdir(parents=True, exist_ok=True)
    all_candidates: list[dict[str, Any]] = []
    iteration_records: list[dict[str, Any]] = []
    for run in range(runs):
        buffer: list[dict[str, Any]] = []
        for iteration in range(iterations):
            batch = [_candidate(rng, run, iteration, i) for i in range(candidates)]
            all_candidates.extend(batch)
            scored = [c for c in batch if c["score"] is not None]
            buffer = sorted(buffer + scored, key=lambda c: -c["score"])[:buffer_size]
            iteration_records.append(
                _iteration_record(run, iteration, scored, len(batch) - len(scored), buffer))
    findings: list[dict[str, Any]] = []
    seen: set[str] = set()
    for c in sorted((c for c in all_candidates if c["score"] is not None), key=lambda c: -c["score"]):
        if c["query"] not in seen and len(findings) < 8:
            seen.add(c["query"])
            findings.append({**c, "rank": len(findings) + 1})
    write_jsonl_atomic(path / "candidates.jsonl", all_candidates)
    write_jsonl_atomic(path / "iterations.jsonl", iteration_records)
    write_jsonl_atomic(path / "findings.jsonl", findings)
    n_calls = 3 * len(all_candidates)
    manifest = {
        "command": f"surfturf surf run --rubric {rubric} --target world/target",
        "version": "0.1.0", "created": "2026-11-26T21:00:00+00:00", "updated": "2026-11-26T21:14:05+00:00", "seeds": [seed + r for r in range(runs)],
        "models": {"target": "world/target", "generator": "world/generator",
                   "judge": "world/judge <script>window.__pwned=8</script>"},
        "inputs": [{"path": "pool.jsonl", "sha256": "0" * 64}],
        "counts": {"candidates": len(all_candidates), "findings": len(findings)},
        "usage": {"per_model": [
            {"role": role, "model": f"world/{role}", "calls": len(all_candidates), "cache_hits": 2,
             "errors": 0, "input_tokens": 120 * len(all_candidates), "output_tokens": 60 * len(all_candidates),
             "cost_usd": 0.0004 * len(all_candidates), "latency_p50_s": 0.2, "latency_p95_s": 0.6}
            for role in ("generator", "target", "judge")],
            "total": {"calls": n_calls, "cache_hits": 6, "errors": 0, "input_tokens": 120 * n_calls,
                      "output_tokens": 60 * n_calls, "cost_usd": round(0.0004 * n_calls, 6)}},
        "status": "complete",
        "config": {"rubric": rubric,
                   "rubric_text": f"name: {rubric}\n"
                                  "principle: code only when asked </textarea><script>window.__pwned=9</script>\n",
                   "pool": {"source": "builtin", "size": len(ATTRIBUTES)}, "strategy": "surf",
                   "runs": runs, "iterations": iterations, "candidates": candidates,
                   "buffer": buffer_size, "threshold": 50},
    }
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if traces:
        _write_traces(path, findings[:2], rubric)
    if robust:
        _write_robust(path, findings[:3], rubric)
    if steer:
        _write_steer(path)
    return path


def _write_traces(path: Path, findings: list[dict[str, Any]], rubric: str) -> None:
    traces_dir = path / "traces"
    summary = []
    for n, finding in enumerate(findings):
        hits = {str(c): max(1, 400 // (c + 1) - 7 * n) for c in range(12)}
        trigger = {"text": "The query uses formal, elaborate vocabulary", "cluster": 0,
                   "cluster_summary": "Formal register <script>window.__pwned=10</script>",
                   "hits": hits["0"], "k": 1000}
        trace = {
            "finding": finding["id"], "rubric": rubric, "query": finding["query"],
            "response": finding["response"],
            "blind_attributes": [f"The response does thing {i}" for i in range(9)]
            + ["The response contains </textarea><script>window.__pwned=11</script>"],
            "crux": ["The response provides extensive code", "The response imports sympy",
                     "The response ignores the question"],
            "k": 1000, "hits": hits,
            "query_attributes": [
                {"text": a, "cluster": i, "cluster_summary": f"cluster summary {i}",
                 "hits": hits[str(i)], "expected": 40.0 + i, "lift": round(hits[str(i)] / (40.0 + i), 2),
                 "p_value": 10.0 ** -(8 - i), "p_adjusted": min(1.0, 12 * 10.0 ** -(8 - i))}
                for i, a in enumerate(ATTRIBUTES[:6])],
            "trigger": trigger,
            "trigger_by_enrichment": {**trigger, "text": "The query contains LaTeX math", "cluster": 1,
                                      "cluster_summary": "LaTeX formulas", "hits": hits["1"]},
            "chunks": [
                {"source": "codealpaca", "hits": 700, "share": 0.7, "corpus_share": 0.2, "lift": 3.5,
                 "p_adjusted": 1e-30},
                {"source": "gsm8k", "hits": 200, "share": 0.2, "corpus_share": 0.3, "lift": 0.67,
                 "p_adjusted": 0.9},
                {"source": "t0 <img src=x onerror=window.__pwned=12>", "hits": 100, "share": 0.1,
                 "corpus_share": 0.5, "lift": 0.2, "p_adjusted": 1.0}],
            "evidence": [
                {"id": f"codealpaca-{i}", "source": "codealpaca",
                 "query": f"Elucidate how to sort a list {PAYLOADS[i % len(PAYLOADS)]}",
                 "response": "def sort(xs):\n    return sorted(xs)", "similarity": round(0.93 - 0.02 * i, 3),
                 "crux": "The response provides extensive code"} for i in range(4)],
            "keywords": [{"word": "elucidate", "count": 85, "sources": {"codealpaca": 72, "t0": 13},
                          "top_source": "codealpaca", "concentration": 0.85}],
            "sentence": "When the model sees formal, elaborate vocabulary, it provides extensive code, "
                        "causing code written unasked.",
            "n_retrieved": 1000, "error": None,
        }
        summary.append(trace)
    failed = {"finding": "r9-i9-c9", "rubric": rubric, "query": "q", "response": "r", "blind_attributes": [],
              "crux": [], "k": 1000, "error": "crux: no <crux> tag in '<script>window.__pwned=14</script>'",
              "trigger": None, "trigger_by_enrichment": None, "chunks": [], "evidence": [], "keywords": [],
              "hits": {}, "query_attributes": [], "sentence": None}
    records = summary + [failed]
    write_traces(traces_dir, records, trace_manifest(config={}, models={}, inputs={}, records=records, usage={}))


def _write_robust(path: Path, findings: list[dict[str, Any]], rubric: str) -> None:
    robust_dir = path / "robust"
    robust_dir.mkdir(exist_ok=True)
    records = []
    for n, finding in enumerate(findings):
        rate = 0.6 - 0.15 * n
        records.append({
            "finding": finding["id"], "rubric": rubric,
            "original": {"query": finding["query"], "rate": rate, "low": rate - 0.2, "high": rate + 0.15, "n": 20},
            "perturbations": [{"query": f"Rephrased {j}: {finding['query']}", "rate": rate - 0.05 * j,
                               "low": max(0.0, rate - 0.05 * j - 0.2), "high": rate - 0.05 * j + 0.2, "n": 20}
                              for j in range(3)],
            "mean_rate": rate - 0.05, "low": rate - 0.15, "high": rate + 0.05, "n": 60})
    write_jsonl_atomic(robust_dir / "robust.jsonl", records)
    summary = {rubric: {"findings": len(records), "mean_rate": 0.45, "low": 0.35, "high": 0.55}}
    (robust_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")


def _write_steer(path: Path) -> None:
    steer_dir = path / "steer"
    steer_dir.mkdir(exist_ok=True)
    steer = {"transform": "latex", "measure": "regex:sympy",
             "targets": [{"target": name, "n": 200, "rate_original": 0.1 + d / 3, "rate_transformed": 0.1 + d,
                          "difference": d - d / 3, "low": d - d / 3 - 0.08, "high": d - d / 3 + 0.08,
                          "method": "bootstrap", "p_value": 0.001}
                         for name, d in (("world/target", 0.6), ("world/target-dpo", 0.45),
                                         ("ckpt <script>window.__pwned=13</script>", 0.3))]}
    (steer_dir / "steer.json").write_text(json.dumps(steer, indent=2), encoding="utf-8")
