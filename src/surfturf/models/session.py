"""ModelSession and Model: the one async interface every role uses (cache, limits, retries, accounting, budget)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from dotenv import dotenv_values

from surfturf.errors import UserError
from surfturf.models.accounting import Budget, BudgetGuard, Usage, approx_tokens
from surfturf.models.cache import Cache, cache_key
from surfturf.models.limits import REGISTRY, EndpointSlots
from surfturf.models.prices import Price, load_prices, price_for
from surfturf.models.providers.base import Provider, ProviderError
from surfturf.models.retry import RetryPolicy
from surfturf.models.specs import Endpoint, load_provider_class, parse_spec, resolve_endpoint
from surfturf.models.types import ChatResult, EmbedResult, GenerateConfig, Message

log = logging.getLogger("surfturf.models")
T = TypeVar("T")
EMBED_BATCH = 256


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
        self._guard = BudgetGuard(budget or Budget())
        self._providers: dict[tuple[str, str | None, str | None], Provider] = {}
        self._slots: dict[str, EndpointSlots] = {}

    @property
    def budget(self) -> Budget:
        return self._guard.budget

    @property
    def budget_exhausted(self) -> bool:
        return self._guard.reason is not None

    @property
    def budget_reason(self) -> str | None:
        return self._guard.reason

    def model(
        self,
        role: str,
        spec: str,
        config: GenerateConfig | None = None,
        base_url: str | None = None,
        api_key_env: str | None = None,
    ) -> Model:
        """A handle for one role; raises UserError for an unknown provider or a missing key, before any call."""
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
        return Model(self, role, endpoint, provider, config or GenerateConfig())

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
        self, endpoint: Endpoint, call: Callable[[], Awaitable[T]], estimated_tokens: int
    ) -> tuple[T | ProviderError, int, float]:
        """Run `call` with limits and retries; a slot is held only while a request is in flight.

        Returns the outcome, the number of attempts and the last attempt's time in flight (queueing excluded).
        """
        slots = self._slots[endpoint.slot_key]
        error = ProviderError("other", "no attempt made")
        attempt = 0
        in_flight = 0.0
        for attempt in range(self.retry.max_retries + 1):
            if self.rpm is not None:
                await REGISTRY.bucket_for(endpoint.slot_key, "rpm", self.rpm).wait(1)
            if self.tpm is not None:
                await REGISTRY.bucket_for(endpoint.slot_key, "tpm", self.tpm).wait(estimated_tokens)
            await slots.acquire()
            sent = time.perf_counter()
            try:
                outcome = await call()
                return outcome, attempt + 1, time.perf_counter() - sent
            except ProviderError as failure:
                error = failure
            except Exception as failure:  # a provider bug must not kill a run either
                error = ProviderError("other", f"{type(failure).__name__}: {failure}")
            finally:
                slots.release()
            in_flight = time.perf_counter() - sent
            if not error.retryable or attempt == self.retry.max_retries:
                break
            delay = self.retry.delay(attempt, error.retry_after)
            log.debug("retrying %s in %.2fs after %s", endpoint.spec, delay, error.kind)
            await asyncio.sleep(delay)
        return error, attempt + 1, in_flight

    def _settle_tpm(self, endpoint: Endpoint, estimated: int, actual: int) -> None:
        if self.tpm is not None:
            REGISTRY.bucket_for(endpoint.slot_key, "tpm", self.tpm).reserve(actual - estimated)

    async def _store(self, key: str, payload: dict[str, Any]) -> None:
        try:
            await self.cache.put_async(key, payload)
        except Exception as error:  # a full disk must not turn a paid answer into a crash
            log.warning("model cache write failed: %s", error)


class Model:
    """One role's model: `generate` for chat, `embed` for vectors. Neither raises for provider trouble."""

    def __init__(
        self, session: ModelSession, role: str, endpoint: Endpoint, provider: Provider, config: GenerateConfig
    ) -> None:
        self.session = session
        self.role = role
        self.endpoint = endpoint
        self.provider = provider
        self.config = config
        self.spec = str(endpoint.spec)
        self.price: Price = price_for(session.prices, endpoint.spec)

    def __repr__(self) -> str:
        return f"Model(role={self.role!r}, spec={self.spec!r}, base_url={self.endpoint.base_url!r})"

    def _key(self, kind: str, body: Any, config: dict[str, Any], sample_index: int) -> str:
        return cache_key({
            "kind": kind, "provider": self.endpoint.spec.provider, "model": self.endpoint.spec.model,
            "host": self.endpoint.host, "body": body, "config": config, "sample_index": sample_index,
        })

    async def generate(
        self, messages: Sequence[Message] | str, config: GenerateConfig | None = None, sample_index: int = 0
    ) -> ChatResult:
        """One completion (from the cache if this exact request was answered before)."""
        session = self.session
        chat = _as_messages(messages)
        settings = self.config.merged(config)
        key = self._key("chat", chat, settings.key(), sample_index)
        if self.provider.cacheable and session.cache.readable:
            hit = session.cache.get(key)
            if hit is not None:
                payload = hit[0]
                session.usage.record_hit(self.role, self.spec)
                return ChatResult(
                    text=payload["text"], model=self.spec, role=self.role, input_tokens=payload["input_tokens"],
                    output_tokens=payload["output_tokens"], thinking=payload.get("thinking"), cached=True,
                    attempts=0,
                )
        refusal = session._guard.try_start()
        if refusal is not None:
            return ChatResult(text="", model=self.spec, role=self.role, error=f"budget: {refusal}", attempts=0)
        estimated = approx_tokens(sum(len(m["content"]) for m in chat)) + (settings.max_tokens or 512)
        outcome, attempts, latency = await session._call(
            self.endpoint, lambda: self.provider.chat(chat, settings), estimated
        )
        if isinstance(outcome, ProviderError):
            session.usage.record_call(self.role, self.spec, error=True, input_tokens=0, output_tokens=0,
                                      cost_usd=0.0, latency_s=latency)
            return ChatResult(text="", model=self.spec, role=self.role, error=str(outcome), latency_s=latency,
                              attempts=attempts)
        latency = outcome.latency_s if outcome.latency_s is not None else latency
        price = self.price
        cost = price.cost(outcome.input_tokens, outcome.output_tokens)
        session.usage.record_call(self.role, self.spec, error=False, input_tokens=outcome.input_tokens,
                                  output_tokens=outcome.output_tokens, cost_usd=cost, latency_s=latency,
                                  price_known=price.known)
        session._guard.add(outcome.input_tokens + outcome.output_tokens, cost)
        session._settle_tpm(self.endpoint, estimated, outcome.input_tokens + outcome.output_tokens)
        if self.provider.cacheable:
            await session._store(key, {"text": outcome.text, "input_tokens": outcome.input_tokens,
                                 "output_tokens": outcome.output_tokens, "thinking": outcome.thinking})
        return ChatResult(
            text=outcome.text, model=self.spec, role=self.role, input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens, cost_usd=cost, latency_s=latency, thinking=outcome.thinking,
            attempts=attempts,
        )

    async def embed(self, texts: Sequence[str]) -> EmbedResult:
        """Vectors for `texts` in order; cached per text, missing ones fetched in batches."""
        session = self.session
        texts = list(texts)
        started = time.perf_counter()
        use_cache = self.provider.cacheable and session.cache.readable
        keys = [self._key("embed", text, {}, 0) for text in texts] if use_cache else []
        found: dict[int, np.ndarray] = {}
        if use_cache:
            for i, key in enumerate(keys):
                hit = session.cache.get(key)
                if hit is not None and hit[1] is not None:
                    found[i] = hit[1]
            if found:
                session.usage.record_hit(self.role, self.spec)
        missing = [i for i in range(len(texts)) if i not in found]
        tokens = 0
        cost = 0.0
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start:start + EMBED_BATCH]
            refusal = session._guard.try_start() if self.provider.metered else None
            if refusal is not None:
                return EmbedResult(None, self.spec, self.role, error=f"budget: {refusal}",
                                   latency_s=time.perf_counter() - started)
            batch_texts = [texts[i] for i in batch]
            outcome, _, elapsed = await session._call(
                self.endpoint, lambda b=batch_texts: self.provider.embed(b), approx_tokens(sum(len(t) for t in batch_texts))
            )
            if isinstance(outcome, ProviderError):
                session.usage.record_call(self.role, self.spec, error=True, input_tokens=0, output_tokens=0,
                                          cost_usd=0.0, latency_s=elapsed)
                return EmbedResult(None, self.spec, self.role, error=str(outcome),
                                   latency_s=time.perf_counter() - started)
            vectors, used = outcome
            price = self.price
            batch_cost = price.cost(used, 0)
            session.usage.record_call(self.role, self.spec, error=False, input_tokens=used, output_tokens=0,
                                      cost_usd=batch_cost, latency_s=elapsed, price_known=price.known)
            session._guard.add(used, batch_cost)
            tokens += used
            cost += batch_cost
            for i, vector in zip(batch, vectors):
                found[i] = vector
            if use_cache and session.cache.writable:
                try:
                    session.cache.put_many([(keys[i], {"dim": int(v.shape[0])}, v) for i, v in zip(batch, vectors)])
                except Exception as error:
                    log.warning("model cache write failed: %s", error)
        if not texts:
            return EmbedResult(np.zeros((0, 0), dtype=np.float32), self.spec, self.role)
        matrix = np.stack([found[i] for i in range(len(texts))]).astype(np.float32, copy=False)
        return EmbedResult(matrix, self.spec, self.role, input_tokens=tokens, cost_usd=cost,
                           latency_s=time.perf_counter() - started, cached=not missing)


def _as_messages(messages: Sequence[Message] | str) -> list[dict[str, str]]:
    """Plain OpenAI-shaped dicts (a bare string is one user turn), so the cache key is stable."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
