"""ModelSession: what one command's model calls share (cache, limits, retries, accounting, budget, ledger);
its models (models/model.py) are made from it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values

from surfturf.errors import UserError
from surfturf.models.accounting import Budget, BudgetGuard, Usage
from surfturf.models.cache import Cache
from surfturf.models.health import EndpointFailure, EndpointHealth
from surfturf.models.ledger import SpendLedger
from surfturf.models.limits import REGISTRY, EndpointSlots
from surfturf.models.model import Model
from surfturf.models.prices import Price, load_prices, price_for
from surfturf.models.providers.base import Provider, ProviderError, ServerLimits
from surfturf.models.redact import install_log_filter, redact
from surfturf.models.retry import RETRIED_KINDS, TRANSIENT_KINDS, RetryPolicy
from surfturf.models.specs import Endpoint, load_provider_class, parse_spec, resolve_endpoint
from surfturf.models.types import ChatResult, GenerateConfig

log = logging.getLogger("surfturf.models")
install_log_filter()
T = TypeVar("T")
DISCOVERY_TIMEOUT_S = 10.0  # asking a server for its limits must never hold a run up for long


class ModelSession:
    """Owns the cache, the price table, usage and the budget for one command; models are made from it."""

    def __init__(
        self,
        cache_dir: Path | str | None = None,
        cache_mode: str = "read-write",
        max_concurrency: int = 32,
        rpm: float | None = None,
        tpm: float | None = None,
        budget: Budget | None = None,
        prices: Path | str | None = None,
        env_file: Path | str | None = None,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        ledger: Path | str | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise UserError(f"max concurrency {max_concurrency} is below 1", "pass --max-concurrency 1 or more")
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None and value <= 0:
                raise UserError(f"{name} limit {value} is not positive", f"pass a positive --{name} or leave it out")
        self.env: dict[str, str] = {}
        if env_file is not None:
            if not Path(env_file).is_file():
                raise UserError(f"env file {env_file} does not exist", "pass an existing .env file or leave it out")
            self.env = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        self.cache = Cache(Path(cache_dir) if cache_dir is not None else None, cache_mode)
        self.prices: dict[str, Price] = load_prices(prices)
        self.max_concurrency = max_concurrency
        self.rpm = rpm
        self.tpm = tpm
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.usage = Usage()
        self.planned: list[dict[str, Any]] = []
        self.ledger = SpendLedger(ledger) if ledger is not None else None
        self._guard = BudgetGuard(budget or Budget(), self.ledger.totals() if self.ledger is not None else None)
        self._providers: dict[tuple[str, str | None, str | None], Provider] = {}
        self._slots: dict[str, EndpointSlots] = {}
        self._health: dict[str, EndpointHealth] = {}
        self._inflight: dict[str, asyncio.Future[ChatResult | None]] = {}
        self._discovery: dict[str, asyncio.Task[None]] = {}

    @property
    def budget(self) -> Budget:
        return self._guard.budget

    @property
    def budget_exhausted(self) -> bool:
        return self._guard.reason is not None

    @property
    def budget_reason(self) -> str | None:
        return self._guard.reason

    @property
    def endpoint_failure(self) -> EndpointFailure | None:
        """Set once an endpoint kept failing; its calls then return `endpoint_down` and the caller should stop."""
        return next((h.failure for h in self._health.values() if h.failure is not None), None)

    def spent(self) -> dict[str, Any]:
        """Calls, tokens and dollars spent: the ledger's whole directory (earlier processes too) when there is
        one, else this session's calls."""
        if self.ledger is not None:
            return self.ledger.totals()
        total = self.usage.totals()
        return {k: total[k] for k in ("calls", "input_tokens", "output_tokens", "cost_usd")}

    def model(
        self,
        role: str,
        spec: str,
        config: GenerateConfig | None = None,
        base_url: str | None = None,
        api_key_env: str | None = None,
        revision: str | None = None,
    ) -> Model:
        """A handle for one role; raises UserError for an unknown provider or a missing key, before any call.
        `revision` names the checkpoint behind the spec (part of the cache key), for one name re-served."""
        endpoint = resolve_endpoint(spec, base_url, api_key_env, self.env)
        ident = (str(endpoint.spec), endpoint.base_url, endpoint.key_env)
        provider = self._providers.get(ident)
        if provider is None:
            provider = load_provider_class(endpoint.info)(endpoint, self.timeout_s)
            self._providers[ident] = provider
        if endpoint.slot_key not in self._slots:
            slots = REGISTRY.slots_for(endpoint.slot_key)
            slots.register(self.max_concurrency)
            self._slots[endpoint.slot_key] = slots
            self._health[endpoint.slot_key] = EndpointHealth(endpoint.shown)
        return Model(self, role, endpoint, provider, config or GenerateConfig(), revision)

    def price(self, spec: str) -> Price:
        return price_for(self.prices, parse_spec(spec))

    def estimate(
        self, role: str, spec: str, n_calls: int, input_tokens_per_call: int, output_tokens_per_call: int
    ) -> float:
        """Planned cost in USD for --dry-run; also noted in `planned` so a command can print the whole plan."""
        price = self.price(spec)
        usd = n_calls * price.cost(input_tokens_per_call, output_tokens_per_call)
        self.planned.append(
            {"role": role, "model": spec, "calls": n_calls, "input_tokens": n_calls * input_tokens_per_call,
             "output_tokens": n_calls * output_tokens_per_call, "cost_usd": round(usd, 6), "price_known": price.known}
        )
        return usd

    def plan_lines(self) -> list[str]:
        """Human lines for --dry-run: planned calls per role and estimated cost."""
        lines = [
            f"{p['role']:<11} {p['model']:<40} {p['calls']:>8} calls  ~${p['cost_usd']:.4f}"
            + ("" if p["price_known"] else "  (price unknown; add it with --prices)")
            for p in self.planned
        ]
        total = sum(p["cost_usd"] for p in self.planned)
        calls = sum(p["calls"] for p in self.planned)
        lines.append(f"{'total':<11} {'':<40} {calls:>8} calls  ~${total:.4f}")
        return lines

    async def aclose(self) -> None:
        """Close network clients, release this session's share of the process-wide limits, close the cache."""
        for provider in self._providers.values():
            await provider.aclose()
        self._providers.clear()
        for slots in self._slots.values():
            slots.unregister(self.max_concurrency)
        self._slots.clear()
        for task in self._discovery.values():
            task.cancel()
        self._discovery.clear()
        if self.ledger is not None:
            self.ledger.close()
        self.cache.close()

    async def __aenter__(self) -> ModelSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (f"ModelSession(cache={self.cache.path}, mode={self.cache.mode}, "
                f"max_concurrency={self.max_concurrency}, budget={self.budget})")

    # -- the call path shared by generate and embed --------------------------------------------------

    async def _call(
        self, endpoint: Endpoint, provider: Provider, call: Callable[[], Awaitable[T]], estimated_tokens: int
    ) -> tuple[T | ProviderError, int, float]:
        """Run `call` with limits and retries; a slot is held only while a request is in flight, so neither
        queueing nor backoff counts toward the request's timeout (the SDK's clock starts when it sends).

        Returns the outcome, the number of attempts and the last attempt's time in flight (queueing excluded).
        """
        slots = self._slots[endpoint.slot_key]
        health = self._health[endpoint.slot_key]
        await self._discover(endpoint, provider, slots)
        error = ProviderError("other", "no attempt made")
        attempt = 0
        in_flight = 0.0
        for attempt in range(self.retry.max_retries + 1):
            if health.failure is not None:
                return self._down(health), attempt, in_flight
            if self.rpm is not None:
                await REGISTRY.bucket_for(endpoint.slot_key, "rpm", self.rpm).wait(1)
            if self.tpm is not None:
                await REGISTRY.bucket_for(endpoint.slot_key, "tpm", self.tpm).wait(estimated_tokens)
            await slots.acquire()
            sent = time.perf_counter()
            try:
                outcome = await call()
                health.record(None, False)
                return outcome, attempt + 1, time.perf_counter() - sent
            except ProviderError as failure:
                error = failure
            except Exception as failure:  # a provider bug must not kill a run either
                error = ProviderError("other", f"{type(failure).__name__}: {failure}")
            finally:
                slots.release()
            in_flight = time.perf_counter() - sent
            if error.kind not in RETRIED_KINDS or attempt == self.retry.max_retries:
                break
            delay = self.retry.delay(attempt, error.retry_after)
            log.debug("retrying %s in %.2fs after %s", endpoint.shown, delay, error.kind)
            if error.kind == "rate_limit":
                slots.pause(delay)  # the whole endpoint slows down, not just this call
            await asyncio.sleep(delay)
        tripped = health.record(redact(str(error)), error.kind in TRANSIENT_KINDS)
        if tripped is not None:
            log.error("%s", tripped.line())
        return error, attempt + 1, in_flight

    def _refusal(self, endpoint: Endpoint, metered: bool) -> str | None:
        """Why a call must not be sent (its endpoint was given up, or the budget is spent), else None; a call
        that may go ahead is counted against the call cap here, so concurrent callers cannot overshoot it."""
        health = self._health[endpoint.slot_key]
        if health.failure is not None:
            return str(self._down(health))
        budget = self._guard.try_start() if metered else None
        return f"budget: {budget}" if budget is not None else None

    @staticmethod
    def _down(health: EndpointHealth) -> ProviderError:
        failure = health.failure
        assert failure is not None
        return ProviderError("endpoint_down", f"{failure.endpoint} was given up after {failure.failed} failed calls "
                                              f"(last error: {failure.last_error})")

    async def _discover(self, endpoint: Endpoint, provider: Provider, slots: EndpointSlots) -> None:
        """Learn the server's slot count once per endpoint (lazily, failures ignored); callers wait for it."""
        task = self._discovery.get(endpoint.slot_key)
        if task is None:
            if slots.discovery_claimed:
                return
            slots.discovery_claimed = True
            task = asyncio.ensure_future(self._learn(endpoint, provider, slots))
            self._discovery[endpoint.slot_key] = task
        if not task.done() and task.get_loop() is asyncio.get_running_loop():
            await asyncio.shield(task)

    async def _learn(self, endpoint: Endpoint, provider: Provider, slots: EndpointSlots) -> None:
        try:
            limits: ServerLimits = await asyncio.wait_for(
                provider.server_limits(), min(DISCOVERY_TIMEOUT_S, self.timeout_s))
        except Exception as error:  # a server that cannot say keeps the configured bound
            log.debug("no server limits from %s: %s", endpoint.shown, redact(str(error)))
            return
        if limits.slots is not None and limits.slots > 0:
            slots.cap_at_server_slots(limits.slots)
            log.info("%s serves %d requests at once; concurrency capped there", endpoint.shown, limits.slots)

    def _record(self, model: Model, *, error: bool, input_tokens: int, output_tokens: int, cost_usd: float,
                latency_s: float, price_known: bool = True, metered: bool = True) -> None:
        """Count one finished call in this process's usage and, if it is a model call (`metered`: local
        embedders' work is not), in the spend ledger."""
        self.usage.record_call(model.role, model.spec, error=error, input_tokens=input_tokens,
                               output_tokens=output_tokens, cost_usd=cost_usd, latency_s=latency_s,
                               price_known=price_known)
        if metered and self.ledger is not None:
            self.ledger.append(model.role, model.spec, input_tokens, output_tokens, cost_usd, error)

    def _settle_tpm(self, endpoint: Endpoint, estimated: int, actual: int) -> None:
        if self.tpm is not None:
            REGISTRY.bucket_for(endpoint.slot_key, "tpm", self.tpm).reserve(actual - estimated)

    async def _store(self, key: str, payload: dict[str, Any]) -> None:
        try:
            await self.cache.put_async(key, payload)
        except Exception as error:  # a full disk must not turn a paid answer into a crash
            log.warning("model cache write failed: %s", error)
