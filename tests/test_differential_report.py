"""The report of a differential run: findings new in the target, fixed in it and shared, side by side,
with both scores and both answers (escaped), and the paired test's verdict where robust checked one."""

from __future__ import annotations

import json
import re
from pathlib import Path

from surfturf.models import ModelSession
from surfturf.report import write_report
from surfturf.surf import load_candidates, load_manifest, run_surf
from surfturf.testing.differential import PROSE, differential_config, two_checkpoints, write_pool
from surfturf.testing.server import FakeLLMServer
from surfturf.testing.surf import scripted_config

HOSTILE = '<img src=x onerror="alert(1)">'


def hostile_baseline(messages: list[dict], model: str) -> str:
    answer = two_checkpoints(messages, model)
    return answer.replace(PROSE, PROSE + " " + HOSTILE) if model == "baseline" else answer


def _columns(html: str) -> dict[str, str]:
    """Each column's HTML, by kind."""
    parts = re.split(r'<div class="diffcol diff-(\w+)">', html.split('<section id="differential">')[1].split("</section>")[0])
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


async def test_report_shows_new_fixed_and_shared_side_by_side(tmp_path: Path) -> None:
    pool = write_pool(tmp_path / "pool.txt")
    async with FakeLLMServer(hostile_baseline) as server:
        async with ModelSession(cache_dir=None, max_concurrency=8) as session:
            await run_surf(differential_config(server, pool, direction="either", strategy="random", iterations=3), session, tmp_path / "run")
            await run_surf(scripted_config(server, pool, runs=1, iterations=2, candidates=5), session, tmp_path / "plain")
            await run_surf(differential_config(server, pool, runs=1, iterations=2), session, tmp_path / "gated")
    finding = max((c for c in load_candidates(tmp_path / "run") if c["differential"]["kind"] == "new"),
                  key=lambda c: c["score"])
    claim = {"direction": "new", "p": 0.000244, "holds": True}
    (tmp_path / "run" / "robust").mkdir()
    (tmp_path / "run" / "robust" / "robust.jsonl").write_text(json.dumps({
        "finding": finding["id"], "rubric": "code", "original": {"rate": 1.0, "low": 0.7, "high": 1.0, "n": 12},
        "perturbations": [], "mean_rate": None, "low": 0.0, "high": 1.0, "n": 0, "claim": claim}) + "\n")
    html = write_report([tmp_path / "run"]).read_text()
    assert 'href="#differential"' in html and "New, fixed and shared failures" in html
    columns = _columns(html)
    assert list(columns) == ["new", "fixed", "shared"]
    kinds = load_manifest(tmp_path / "run")["counts"]["kinds"]
    for kind, column in columns.items():
        assert f"({kinds[kind]} candidates)" in column
    candidates = {c["id"]: c for c in load_candidates(tmp_path / "run")}
    for kind, column in columns.items():
        ids = re.findall(r'<div class="meta">(r\d+-i\d+-c\d+) ', column)
        assert ids and all(candidates[i]["differential"]["kind"] == kind for i in ids), (kind, ids)
        assert len({candidates[i]["query"] for i in ids}) == len(ids)
    assert "target <strong>90</strong> &middot; baseline <strong>5</strong>" in columns["new"]
    assert "target <strong>5</strong> &middot; baseline <strong>90</strong>" in columns["fixed"]
    assert "paired test: new p=" in columns["new"] and "(holds)" in columns["new"]
    assert HOSTILE not in html and "&lt;img src=x" in html
    assert "each answered by both models and both answers judged" in html
    gated = load_manifest(tmp_path / "gated")["counts"]["kinds"]
    assert gated["unasked"] > 0
    assert (f"the baseline answered {20 - gated['unasked']} of them: where the target scored within the rubric's "
            f"lowest band ({gated['unasked']}), the baseline's answer could change nothing and was not asked"
            in write_report([tmp_path / "gated"]).read_text().replace("&#39;", "'"))
    plain = write_report([tmp_path / "plain"]).read_text()
    assert 'id="differential"' not in plain and "New, fixed and shared" not in plain
