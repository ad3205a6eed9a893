"""The ray engine on a local Ray (2 CPUs): same index as in-process, survives a dead worker and a killed driver,
and every worker's LLM spend lands in the index's spend ledger, under the one budget the driver enforces."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from surfturf.cli.main import main
from surfturf.data import resolve_inputs
from surfturf.models import LEDGER_FILE, ModelSession
from surfturf.models.ledger import SpendLedger
from surfturf.testing.server import FakeLLMServer
from surfturf.testing.index import assert_same_index
from surfturf.turf import store
from surfturf.turf.build import BuildConfig, IndexBuilder

ray = pytest.importorskip("ray")
from surfturf.turf.engine_ray import RayEngine  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_index_build import describe  # noqa: E402  (the stand-in extractor)

ROWS_PER_FILE = 40
SHARD_ROWS = 16
EMBEDDER = "hash/64"
K = 12
SRC = str(Path(__file__).resolve().parents[1] / "src")
WORKER_PATH = os.pathsep.join([SRC, str(Path(__file__).parent)])  # workers import this module's factories


@pytest.fixture(scope="module")
def cluster() -> str:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": WORKER_PATH}})
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


class OfflineModels:
    """Worker models: the offline extractor and the hash embedder, opened in the worker."""

    def __call__(self) -> tuple:
        session = ModelSession(cache_dir=None, cache_mode="off")
        return session, None, session.model("embedder", EMBEDDER)


class DiesOnce(OfflineModels):
    """Kills the first worker that opens it (a real process exit mid-build); later workers carry on."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __call__(self) -> tuple:
        if not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os._exit(1)
        return super().__call__()


def build(sft_mix: Path, out: Path, engine: RayEngine | None = None) -> dict:
    async def run() -> dict:
        session = ModelSession(cache_dir=None, cache_mode="off")
        config = BuildConfig(embedder=EMBEDDER, shard_rows=SHARD_ROWS, limit=ROWS_PER_FILE, k=K)
        builder = IndexBuilder(resolve_inputs([str(sft_mix)]), out, config, session, None,
                               session.model("embedder", EMBEDDER), engine=engine)
        try:
            return await builder.run()
        finally:
            await session.aclose()

    return asyncio.run(run())


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, sft_mix: Path) -> Path:
    out = tmp_path_factory.mktemp("inprocess") / "INDEX"
    build(sft_mix, out)
    return out


def test_ray_build_equals_in_process(cluster: str, reference: Path, sft_mix: Path, tmp_path: Path) -> None:
    manifest = build(sft_mix, tmp_path / "INDEX", RayEngine(OfflineModels(), "float16"))
    assert manifest["engine"] == "ray" and manifest["counts"]["shards"] > 2
    assert_same_index(reference, tmp_path / "INDEX")


def test_dead_worker_is_retried(cluster: str, reference: Path, sft_mix: Path, tmp_path: Path) -> None:
    marker = tmp_path / "died"
    build(sft_mix, tmp_path / "INDEX", RayEngine(DiesOnce(marker), "float16"))
    assert marker.exists()  # a worker really exited mid-build
    assert_same_index(reference, tmp_path / "INDEX")


def test_killed_driver_resumes(cluster: str, reference: Path, sft_mix: Path, tmp_path: Path) -> None:
    out = tmp_path / "INDEX"
    command = [sys.executable, "-m", "surfturf.cli.main", "index", "build", str(sft_mix), "-o", str(out),
               "--limit", str(ROWS_PER_FILE), "--shard-rows", str(SHARD_ROWS), "--k", str(K),
               "--embedder", EMBEDDER, "--cache-dir", str(tmp_path / "cache"), "--engine", "ray", "--ray-address", cluster]
    env = {**os.environ, "PYTHONPATH": SRC}
    log = tmp_path / "driver.log"
    with open(log, "w") as handle:
        driver = subprocess.Popen(command, env=env, stdout=handle, stderr=handle)
    deadline = time.monotonic() + 60
    while not list((out / "work").glob("shard-*[0-9]")) and time.monotonic() < deadline:
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    finished = [p.name for p in (out / "work").glob("shard-*[0-9]")]
    assert finished and "complete" not in (out / store.MANIFEST).read_text(), log.read_text()[-2000:]
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert_same_index(reference, out)


def _llm_build(sft_mix: Path, out: Path, server: FakeLLMServer, tmp_path: Path, *extra: str) -> list[str]:
    prices = tmp_path / "prices.yaml"
    prices.write_text("openai-compatible/extractor: {input: 2.0, output: 4.0}\n")
    return ["surfturf", "index", "build", str(sft_mix), "-o", str(out), "--limit", "8", "--shard-rows", "8",
            "--k", "4", "--embedder", EMBEDDER, "--extractor", "openai-compatible/extractor",
            "--extractor-base-url", server.base_url, "--prices", str(prices), "--cache", "off",
            "--engine", "ray", *extra]


def test_worker_spend_lands_in_the_ledger_under_one_budget(cluster: str, sft_mix: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "INDEX"
    with FakeLLMServer(responder=describe).in_thread() as server:
        monkeypatch.setattr(sys, "argv", _llm_build(sft_mix, out, server, tmp_path))
        main()
        requests = server.requests
    spent = SpendLedger(out / LEDGER_FILE).totals()
    assert requests == 2 * 5 * 8 and spent["calls"] == requests and spent["cost_usd"] > 0  # workers' calls, all
    manifest = store.read_manifest(out)
    assert manifest["usage"]["all_processes"] == spent and manifest["usage"]["total"].get("calls", 0) == 0  # none on the driver
    assert ModelSession(ledger=out / LEDGER_FILE).spent() == spent  # a later process's budget counts them

    capped = tmp_path / "CAPPED"
    per_shard = spent["cost_usd"] / 5
    with FakeLLMServer(responder=describe).in_thread() as server:
        monkeypatch.setattr(sys, "argv", _llm_build(sft_mix, capped, server, tmp_path, "--max-usd", f"{1.5 * per_shard:.6f}"))
        with pytest.raises(SystemExit) as stop:
            main()
    assert stop.value.code == 2 and "budget" in capsys.readouterr().err
    stopped = SpendLedger(capped / LEDGER_FILE).totals()
    assert 0 < stopped["cost_usd"] < spent["cost_usd"]  # the driver stopped submitting shards at the cap
    assert "stopped" in store.read_manifest(capped)["status"]


def test_local_models_get_a_gpu_per_actor_where_the_cluster_has_gpus() -> None:
    from surfturf.turf.engine_ray import uses_local_models

    assert uses_local_models("heuristic", "st/all-MiniLM-L6-v2") and uses_local_models("hf/x", None)
    assert not uses_local_models("openai-compatible/extractor", "hash/64")
    local = RayEngine(OfflineModels(), "float16", local_models=True)
    assert local._gpus_per_actor({"CPU": 16, "GPU": 4}) == 1.0 and local._gpus_per_actor({"CPU": 16}) == 0.0
    assert RayEngine(OfflineModels(), "float16")._gpus_per_actor({"CPU": 16, "GPU": 4}) == 0.0  # LLM calls: CPU actors
