"""The shard map on Ray: each shard is a Ray task that writes the same shard folder as in-process.

Workers build their models once per worker process from `make_models` (a picklable factory, e.g.
the CLI's role settings), so LLM extractors go through our model layer and its on-disk cache, and
local embedders load once. The driver enforces one budget: it sums each finished shard's cost and
submits no new shard once the cap is reached. A task whose worker dies is retried by Ray; a shard
folder appears only when complete, so a retried or resumed shard is never half-written.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from surfturf.attributes.heuristic import OfflineExtractor
from surfturf.errors import UserError
from surfturf.turf.engine import ShardDone, ShardJob
from surfturf.turf.shards import BuildStopped, Extractor, build_shard

TASK_RETRIES = 3
IN_FLIGHT_PER_CPU = 2  # shards submitted ahead per cluster CPU: workers never idle, driver memory bounded

ModelFactory = Callable[[], tuple[Any, Any | None, Any]]  # () -> (session, extractor model or None, embedder)
_worker_models: dict[str, tuple[Any, Extractor, Any]] = {}  # per worker process, by build token


def connect(address: str | None) -> None:
    """Join the cluster at `address` (or RAY_ADDRESS), else start a local one; idempotent."""
    try:
        import ray
    except ImportError:
        raise UserError("--engine ray needs the ray package", "pip install 'surfturf[ray]'") from None
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        try:
            ray.init(address=address, log_to_driver=False, include_dashboard=False)
        except ConnectionError as error:
            raise UserError(f"cannot reach the Ray cluster at {address} ({error})",
                            "start it with `ray start --head` or fix --ray-address / RAY_ADDRESS") from None


def _shard_on_worker(token: str, factory: ModelFactory, job: ShardJob, dtype: str) -> dict[str, Any]:
    if token not in _worker_models:  # models load once per worker process and build
        session, extractor, embedder = factory()
        offline = OfflineExtractor.for_index(job.folder.parent.parent) if extractor is None else None  # INDEX/work/shard
        _worker_models[token] = (session, Extractor(extractor, offline), embedder)
    _, extractor, embedder = _worker_models[token]
    return asyncio.run(build_shard(job.folder, job.rows, extractor, embedder, dtype, lambda: None))


class RayEngine:
    """Shards as Ray tasks, at most IN_FLIGHT_PER_CPU per cluster CPU in flight, results in any order."""

    name = "ray"

    def __init__(self, make_models: ModelFactory, dtype: str, address: str | None = None,
                 max_usd: float | None = None, num_gpus: float = 0.0) -> None:
        self.make_models = make_models
        self.dtype = dtype
        self.address = address
        self.max_usd = max_usd
        self.num_gpus = num_gpus

    async def map(self, jobs: Iterable[ShardJob], on_row: Callable[[], None], on_shard: ShardDone) -> None:
        import ray

        connect(self.address)
        remote = ray.remote(_shard_on_worker).options(max_retries=TASK_RETRIES, retry_exceptions=False,
                                                      num_gpus=self.num_gpus)
        factory = ray.put(self.make_models)
        token = uuid.uuid4().hex
        limit = max(1, int(ray.cluster_resources().get("CPU", 1)) * IN_FLIGHT_PER_CPU)
        pending: dict[Any, ShardJob] = {}
        spent = 0.0
        jobs = iter(jobs)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < limit:
                if self.max_usd is not None and spent >= self.max_usd:
                    raise BuildStopped(f"budget: ${spent:.4f} spent of ${self.max_usd:.4f}")
                job = next(jobs, None)
                if job is None:
                    exhausted = True
                    break
                pending[remote.remote(token, factory, job, self.dtype)] = job
            if not pending:
                break
            ready, _ = await asyncio.to_thread(ray.wait, list(pending), num_returns=1)
            for ref in ready:
                job = pending.pop(ref)
                try:
                    done = ray.get(ref)
                except ray.exceptions.RayTaskError as error:
                    cause = error.cause if isinstance(error.cause, BuildStopped) else None
                    if cause is None:
                        raise
                    raise BuildStopped(str(cause)) from None
                spent += float(done.get("cost_usd", 0.0))
                for _ in job.rows:
                    on_row()
                on_shard(job, done)
