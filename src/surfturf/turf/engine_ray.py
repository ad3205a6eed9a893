"""The shard map on Ray: a pool of actors, each opening its models once and writing shard folders.

Each actor builds its models from `make_models` (a picklable factory, e.g. the CLI's role
settings) when it starts, so a local extractor or embedder (`hf/`, `st/`) loads once per worker,
on the GPU Ray gives the actor when the cluster has GPUs, and an LLM extractor goes through our
model layer with the shared on-disk cache and the index's spend ledger (every worker's calls land
in INDEX/spend.jsonl). The driver enforces one budget: it adds each finished shard's cost to what
the directory had spent before and submits no new shard once the cap is reached. An actor whose
process dies is restarted and its shard retried; a shard folder appears only when complete, so a
retried or resumed shard is never half-written, and a finished one is never redone.

Why actors and not Ray Data: a shard is already the block (the unit of resume, of spend and of
progress), its work is a side effect (an atomic folder), and the budget rule needs the driver to
decide, shard by shard, whether to submit more; Ray Data's streaming executor would prefetch and
retry blocks on its own. An actor pool with a bounded queue gives the same map with those rules.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from typing import Any

from surfturf.attributes.heuristic import OfflineExtractor
from surfturf.errors import UserError
from surfturf.turf.engine import ShardDone, ShardJob
from surfturf.turf.shards import BuildStopped, Extractor, build_shard

RESTARTS = 3  # an actor process that dies is restarted, and its shard retried, this many times
QUEUED_PER_ACTOR = 2  # shards submitted ahead per actor: it never idles, driver memory stays bounded
LOCAL_MODEL_PREFIXES = ("hf/", "st/")  # specs whose models run inside the worker (a GPU helps them)

ModelFactory = Callable[[], tuple[Any, Any | None, Any]]  # () -> (session, extractor model or None, embedder)


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


def uses_local_models(*specs: str | None) -> bool:
    """Whether any of these model specs loads weights in the worker (so workers should get a GPU)."""
    return any(spec and spec.startswith(LOCAL_MODEL_PREFIXES) for spec in specs)


class ShardWorker:
    """One Ray actor: its models open once, then it builds shard after shard on its own event loop."""

    def __init__(self, factory: ModelFactory, dtype: str) -> None:
        self.session, extractor, self.embedder = factory()
        self.extractor = Extractor(extractor)
        self.dtype = dtype
        self.loop = asyncio.new_event_loop()

    def build(self, job: ShardJob) -> dict[str, Any]:
        if self.extractor.model is None and self.extractor.offline is None:  # the lexicon of INDEX/work/shard-N
            self.extractor.offline = OfflineExtractor.for_index(job.folder.parent.parent)
        return self.loop.run_until_complete(
            build_shard(job.folder, job.rows, self.extractor, self.embedder, self.dtype, lambda _: None))


class RayEngine:
    """Shards on a pool of ShardWorker actors (one per CPU, or per GPU), results in any order.

    `num_gpus` per actor: None gives each actor one GPU when `local_models` and the cluster has
    GPUs, else none. `spent_before` is what the directory's ledger already holds (earlier runs),
    so `max_usd` caps the directory's total as the in-process engine's budget does.
    """

    name = "ray"

    def __init__(self, make_models: ModelFactory, dtype: str, address: str | None = None,
                 max_usd: float | None = None, num_gpus: float | None = None, local_models: bool = False,
                 spent_before: float = 0.0) -> None:
        self.make_models = make_models
        self.dtype = dtype
        self.address = address
        self.max_usd = max_usd
        self.num_gpus = num_gpus
        self.local_models = local_models
        self.spent_before = spent_before

    def _gpus_per_actor(self, resources: dict[str, float]) -> float:
        if self.num_gpus is not None:
            return self.num_gpus
        return 1.0 if self.local_models and resources.get("GPU", 0) >= 1 else 0.0

    async def map(self, jobs: Iterable[ShardJob], on_rows: Callable[[int], None], on_shard: ShardDone) -> None:
        import ray

        connect(self.address)
        resources = ray.cluster_resources()
        gpus = self._gpus_per_actor(resources)
        if gpus and resources.get("GPU", 0) < gpus:
            raise UserError(f"the Ray cluster has {resources.get('GPU', 0):g} GPUs, fewer than the {gpus:g} each "
                            "shard worker asks for", "join a cluster with GPUs, or run the models on CPU")
        actors_wanted = int(resources.get("GPU", 0) // gpus) if gpus else int(resources.get("CPU", 1))
        actor_class = ray.remote(ShardWorker).options(num_cpus=1, num_gpus=gpus, max_restarts=RESTARTS,
                                                      max_task_retries=RESTARTS)
        # the factory goes by value (it is small): a restarted actor must not depend on an object-store copy
        actors = [actor_class.remote(self.make_models, self.dtype) for _ in range(max(1, actors_wanted))]
        queued = {id(actor): 0 for actor in actors}
        pending: dict[Any, tuple[ShardJob, Any]] = {}
        spent = self.spent_before
        jobs = iter(jobs)
        exhausted = False
        try:
            while pending or not exhausted:
                while not exhausted and len(pending) < len(actors) * QUEUED_PER_ACTOR:
                    if self.max_usd is not None and spent >= self.max_usd:
                        raise BuildStopped(f"budget: ${spent:.4f} spent of ${self.max_usd:.4f}")
                    job = next(jobs, None)
                    if job is None:
                        exhausted = True
                        break
                    actor = min(actors, key=lambda a: queued[id(a)])
                    queued[id(actor)] += 1
                    pending[actor.build.remote(job)] = (job, actor)
                if not pending:
                    break
                ready, _ = await asyncio.to_thread(ray.wait, list(pending), num_returns=1)
                for ref in ready:
                    job, actor = pending.pop(ref)
                    queued[id(actor)] -= 1
                    try:
                        done = ray.get(ref)
                    except ray.exceptions.RayTaskError as error:
                        if not isinstance(error.cause, BuildStopped):
                            raise
                        raise BuildStopped(str(error.cause)) from None
                    spent += float(done.get("cost_usd", 0.0))
                    on_rows(len(job.rows))
                    on_shard(job, done)
        finally:
            for actor in actors:
                ray.kill(actor)
