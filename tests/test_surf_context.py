"""Context suppression on `surf run` (`--system-prompt`, `--icl-examples`) and the run's usage
summed over the processes of a resumed sweep, against a real local server."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from surfturf.models import Budget, ModelSession
from surfturf.surf import SurfConfig, load_candidates, load_manifest, run_surf
from surfturf.surf.context import build_prefix
from surfturf.testing.cli import run_main as invoke
from surfturf.testing.server import FakeLLMServer
from surfturf.testing.surf import scripted_config

TRIGGER = "The query uses formal vocabulary."
POOL = [TRIGGER] + [f"The query is about {word}." for word in
                    "birds rivers tides ferns moss stones clouds rain snow wind dunes caves".split()]
NO_CODE = "Answer in plain prose. Never write code unless the user explicitly asks for a program."
WATER = ("rivers", "tides", "rain")
EXAMPLES = [("What is a haiku?", "A short poem of three lines."), ("Why is the sky blue?", "Rayleigh scattering.")]


class ObedientWorld:
    """generator: a query naming its attributes; target: code for formal queries, unless its system
    prompt forbids code, which it then obeys except when the query is also about water (a shortcut
    the context suppresses but does not remove); judge: code answers score high. Logs the target's
    messages."""

    def __init__(self) -> None:
        self.target_messages: list[list[dict]] = []
        self.lock = threading.Lock()

    def __call__(self, messages: list[dict], model: str) -> str:
        text = messages[-1]["content"]
        if model == "generator":
            block = text.split("<attributes>")[1].split("</attributes>")[0]
            return "<query>" + ", ".join(" ".join(a.split()[::-1]) for a in re.findall(r"^- The query (.*)$", block, re.M)) + "?</query>"
        if model == "target":
            with self.lock:
                self.target_messages.append(messages)
            forbidden = any(m["role"] == "system" and "Never write code" in m["content"] for m in messages)
            code = "formal" in text and (not forbidden or any(w in text for w in WATER))
            return "```python\nprint('hi')\n```" if code else "Here is a plain answer."
        code = "```" in text.split("<response>")[1]
        return f"<reason>{'Code.' if code else 'Prose.'}</reason><score>{90 if code else 10}</score>"


ROLES = ["--target", "openai-compatible/target", "--generator", "openai-compatible/generator",
         "--judge", "openai-compatible/judge"]




def make_config(server: FakeLLMServer, pool: Path, **overrides) -> SurfConfig:
    return scripted_config(server, pool, **(dict(runs=2, iterations=3, candidates=12, seed=3) | overrides))


@pytest.fixture
def pool_file(tmp_path: Path) -> Path:
    path = tmp_path / "pool.txt"
    path.write_text("\n".join(POOL) + "\n")
    return path


def test_cli_sends_system_prompt_and_icl_turns_and_resume_checks_them(monkeypatch, capsys, tmp_path: Path,
                                                                       pool_file: Path) -> None:
    system = tmp_path / "system.txt"
    system.write_text(NO_CODE + "\n")
    icl = tmp_path / "icl.jsonl"
    icl.write_text("".join(json.dumps({"query": q, "response": r}) + "\n" for q, r in [*EXAMPLES, ("unused", "x")]))
    world = ObedientWorld()
    with FakeLLMServer(world).in_thread() as server:
        urls = [f"--{role}-base-url" for role in ("target", "generator", "judge")]
        args = ["surf", "run", "--rubric", "code", "--pool", str(pool_file), "--out", str(tmp_path / "run"), *ROLES,
                *(item for url in urls for item in (url, server.base_url)), "--runs", "1", "--iterations", "1",
                "--candidates", "4", "--cache-dir", str(tmp_path / "cache"), "--system-prompt", str(system),
                "--icl-examples", "2", "--icl-file", str(icl)]
        code, out, err = invoke(monkeypatch, capsys, *args)
        assert code == 0, err
        assert len(world.target_messages) == 4
        for messages in world.target_messages:
            assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
            assert messages[0]["content"] == NO_CODE
            assert [m["content"] for m in messages[1:5]] == [text for example in EXAMPLES for text in example]
        queries = {r["query"] for r in load_candidates(tmp_path / "run")}
        assert {messages[-1]["content"] for messages in world.target_messages} == queries
        context = load_manifest(tmp_path / "run")["config"]["context"]
        assert context[0] == {"role": "system", "content": NO_CODE} and len(context) == 5

        system.write_text("Be brief.\n")
        code, out, err = invoke(monkeypatch, capsys, *args)
        assert code == 2 and "different context" in err and len(err.strip().splitlines()) == 1
        code, out, err = invoke(monkeypatch, capsys, *args[:-6])
        assert code == 2 and "different context" in err
        code, out, err = invoke(monkeypatch, capsys, *args[:-2])
        assert code == 2 and "--icl-examples needs examples" in err
    assert len(load_candidates(tmp_path / "run")) == 4


async def test_a_suppressing_system_prompt_lowers_the_violation_rate(tmp_path: Path, pool_file: Path) -> None:
    system = tmp_path / "system.txt"
    system.write_text(NO_CODE)
    prefix, described = build_prefix(system, 0, None)
    assert described["system_prompt"] == NO_CODE and described["icl_examples"] == 0
    world = ObedientWorld()
    rates = {}
    async with FakeLLMServer(world) as server:
        for name, context in (("bare", []), ("system", prefix)):
            async with ModelSession(cache_dir=tmp_path / "cache", max_concurrency=8) as session:
                summary = await run_surf(make_config(server, pool_file, context=context), session, tmp_path / name)
            assert summary.status == "complete" and summary.errors == 0
            records = load_candidates(tmp_path / name)
            rates[name] = sum(r["violation"] for r in records) / len(records)
    # Same seed, same sampled attributes in iteration 0 for both; the system prompt leaves only the
    # formal queries about water violating, so SURF finds fewer violations but still some.
    assert rates["bare"] > 0.3, rates
    assert 0 < rates["system"] < 0.75 * rates["bare"], rates
    with_system = [m for m in world.target_messages if m[0]["role"] == "system"]
    assert len(with_system) == len(world.target_messages) // 2
    assert all(len(m) == 2 and m[0]["content"] == NO_CODE for m in with_system)


async def test_usage_adds_up_over_a_budget_stop_and_its_resume(tmp_path: Path, pool_file: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("".join(f"openai-compatible/{role}: {{input: {i}.0, output: {2 * i}.0}}\n"
                              for i, role in enumerate(("generator", "target", "judge"), start=1)))
    async with FakeLLMServer(ObedientWorld()) as server:
        config = make_config(server, pool_file)
        async with ModelSession(cache_dir=tmp_path / "cache", max_concurrency=4, budget=Budget(max_calls=40),
                                prices=prices) as session:
            stopped = await run_surf(config, session, tmp_path / "run")
            first = session.usage.summary()
        assert stopped.status.startswith("stopped: budget")
        after_stop = load_manifest(tmp_path / "run")
        assert after_stop["usage"] == first and after_stop["counts"]["cost_usd"] == first["total"]["cost_usd"] > 0
        async with ModelSession(cache_dir=tmp_path / "cache", max_concurrency=4, prices=prices) as session:
            done = await run_surf(config, session, tmp_path / "run")
            second = session.usage.summary()
        requests = server.requests
    assert done.status == "complete" and len(load_candidates(tmp_path / "run")) == 2 * 3 * 12
    manifest = load_manifest(tmp_path / "run")
    usage = manifest["usage"]
    assert usage["total"]["calls"] == first["total"]["calls"] + second["total"]["calls"] == requests
    assert second["total"]["cache_hits"] > 0
    assert usage["total"]["cache_hits"] == first["total"]["cache_hits"] + second["total"]["cache_hits"]
    for line in usage["per_model"]:
        parts = [next((p for p in run["per_model"] if (p["role"], p["model"]) == (line["role"], line["model"])), {})
                 for run in (first, second)]
        for name in ("calls", "cache_hits", "errors", "input_tokens", "output_tokens"):
            assert line[name] == sum(p.get(name, 0) for p in parts), (line, name)
        assert line["cost_usd"] == pytest.approx(sum(p.get("cost_usd", 0) for p in parts), abs=1e-6)
        assert line["price_known"] and line["latency_p50_s"] == (parts[1] or parts[0])["latency_p50_s"]
    spent = first["total"]["cost_usd"] + second["total"]["cost_usd"]
    assert usage["total"]["cost_usd"] == pytest.approx(spent, abs=1e-6)
    assert manifest["counts"]["cost_usd"] == usage["total"]["cost_usd"] == round(done.cost_usd, 6)
    # Every paid call is in the usage; the candidates carry the calls their writing process paid for.
    assert usage["total"]["cost_usd"] >= sum(r["cost_usd"] for r in load_candidates(tmp_path / "run")) - 1e-6


async def test_a_session_reused_for_a_second_sweep_counts_each_call_once(tmp_path: Path, pool_file: Path) -> None:
    async with FakeLLMServer(ObedientWorld()) as server:
        async with ModelSession(cache_dir=None, max_concurrency=4) as session:
            await run_surf(make_config(server, pool_file, runs=1, iterations=1, candidates=4), session, tmp_path / "a")
            await run_surf(make_config(server, pool_file, runs=1, iterations=2, candidates=4), session, tmp_path / "a")
            await run_surf(make_config(server, pool_file, runs=1, iterations=1, candidates=3), session, tmp_path / "b")
        assert server.requests == 3 * (4 + 4 + 3)
    assert load_manifest(tmp_path / "a")["usage"]["total"]["calls"] == 3 * 8
    usage = load_manifest(tmp_path / "b")["usage"]
    assert usage["total"]["calls"] == 9 and sorted(line["calls"] for line in usage["per_model"]) == [3, 3, 3]
