"""Model: one role's handle on a provider, the call every role makes (`generate` for chat, `embed`
for vectors) through its ModelSession's cache, limits, retries, accounting and budget."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from surfturf.models.accounting import approx_tokens
from surfturf.models.cache import CACHE_FORMAT, cache_key
from surfturf.models.prices import Price, price_for
from surfturf.models.providers.base import Provider, ProviderError, ServerLimits
from surfturf.models.redact import redact
from surfturf.models.specs import Endpoint
from surfturf.models.types import ChatResult, EmbedResult, GenerateConfig, Message

if TYPE_CHECKING:
    from surfturf.models.session import ModelSession

log = logging.getLogger("surfturf.models")
EMBED_BATCH = 256


class Model:
    """One role's model: `generate` for chat, `embed` for vectors. Neither raises for provider trouble.
    Every call goes through its session's call path (`_refusal`, `_call`, `_record`, ...), which serves only Model."""

    def __init__(
        self, session: ModelSession, role: str, endpoint: Endpoint, provider: Provider, config: GenerateConfig,
        revision: str | None = None,
    ) -> None:
        self.session = session
        self.role = role
        self.endpoint = endpoint
        self.provider = provider
        self.config = config
        self.revision = revision
        self.spec = str(endpoint.spec)
        self.price: Price = price_for(session.prices, endpoint.spec)

    def __repr__(self) -> str:
        return f"Model(role={self.role!r}, spec={self.spec!r}, base_url={self.endpoint.shown!r})"

    async def server_limits(self) -> ServerLimits:
        """What the server says it can take (slots, context), where its provider can ask."""
        return await self.provider.server_limits()

    def _key(self, kind: str, body: Any, config: dict[str, Any], sample_index: int) -> str:
        """Everything that decides the answer: the server (full URL, no credentials), the client that shapes
        the request, the model and its revision, the body, every setting sent, the sample and the format."""
        return cache_key({
            "format": CACHE_FORMAT, "kind": kind, "provider": self.endpoint.spec.provider,
            "model": self.endpoint.spec.model, "revision": self.revision, "server": self.endpoint.server,
            "client": type(self.provider).__name__, "body": body, "config": config, "sample_index": sample_index,
        })

    async def generate(
        self, messages: Sequence[Message] | str, config: GenerateConfig | None = None, sample_index: int = 0
    ) -> ChatResult:
        """One completion: from the cache if this exact request was answered before, shared with an identical
        request already in flight, else sent."""
        session = self.session
        chat = _as_messages(messages)
        settings = self.config.merged(config)
        key = self._key("chat", chat, settings.key(), sample_index)
        if not self.provider.cacheable:
            return await self._send(chat, settings, key)
        if session.cache.readable:
            hit = session.cache.get(key)
            if hit is not None:
                payload = hit[0]
                session.usage.record_hit(self.role, self.spec)
                return ChatResult(
                    text=payload["text"], model=self.spec, role=self.role, input_tokens=payload["input_tokens"],
                    output_tokens=payload["output_tokens"], thinking=payload.get("thinking"), cached=True,
                    attempts=0,
                )
        loop = asyncio.get_running_loop()
        while (leader := session._inflight.get(key)) is not None and leader.get_loop() is loop:
            shared = await asyncio.shield(leader)
            if shared is not None:  # None: the leader was cancelled, so this caller asks itself
                if shared.ok:
                    session.usage.record_hit(self.role, self.spec)
                return dataclasses.replace(shared, cost_usd=0.0, attempts=0, cached=shared.ok)
        future: asyncio.Future[ChatResult | None] = loop.create_future()
        session._inflight[key] = future
        result: ChatResult | None = None
        try:
            result = await self._send(chat, settings, key)
            return result
        finally:
            if session._inflight.get(key) is future:
                del session._inflight[key]
            future.set_result(result)

    async def _send(self, chat: list[dict[str, str]], settings: GenerateConfig, key: str) -> ChatResult:
        """The paid path: budget, limits, retries, accounting, ledger, cache."""
        session = self.session
        refusal = session._refusal(self.endpoint, metered=True)
        if refusal is not None:
            return ChatResult(text="", model=self.spec, role=self.role, error=refusal, attempts=0)
        estimated = approx_tokens(sum(len(m["content"]) for m in chat)) + (settings.max_tokens or 512)
        outcome, attempts, latency = await session._call(
            self.endpoint, self.provider, lambda: self.provider.chat(chat, settings), estimated
        )
        if isinstance(outcome, ProviderError):
            if outcome.kind != "endpoint_down":  # nothing was sent
                session._record(self, error=True, input_tokens=0, output_tokens=0, cost_usd=0.0, latency_s=latency)
            return ChatResult(text="", model=self.spec, role=self.role, error=redact(str(outcome)),
                              latency_s=latency, attempts=attempts)
        latency = outcome.latency_s if outcome.latency_s is not None else latency
        price = self.price
        cost = price.cost(outcome.input_tokens, outcome.output_tokens)
        session._record(self, error=False, input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
                        cost_usd=cost, latency_s=latency, price_known=price.known)
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
        """Vectors for `texts` in order; cached per text, each distinct missing text fetched once, in batches."""
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
        first: dict[str, int] = {}
        for i, text in enumerate(texts):
            if i not in found:
                first.setdefault(text, i)
        missing = list(first.values())
        tokens = 0
        cost = 0.0
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start:start + EMBED_BATCH]
            refusal = session._refusal(self.endpoint, metered=self.provider.metered)
            if refusal is not None:
                return EmbedResult(None, self.spec, self.role, error=refusal, latency_s=time.perf_counter() - started)
            batch_texts = [texts[i] for i in batch]
            outcome, _, elapsed = await session._call(
                self.endpoint, self.provider, lambda b=batch_texts: self.provider.embed(b),
                approx_tokens(sum(len(t) for t in batch_texts))
            )
            if isinstance(outcome, ProviderError):
                if outcome.kind != "endpoint_down":
                    session._record(self, error=True, input_tokens=0, output_tokens=0, cost_usd=0.0,
                                    latency_s=elapsed, metered=self.provider.metered)
                return EmbedResult(None, self.spec, self.role, error=redact(str(outcome)),
                                   latency_s=time.perf_counter() - started)
            vectors, used = outcome
            batch_cost = self.price.cost(used, 0)
            session._record(self, error=False, input_tokens=used, output_tokens=0, cost_usd=batch_cost,
                            latency_s=elapsed, price_known=self.price.known, metered=self.provider.metered)
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
        matrix = np.stack([found[i] if i in found else found[first[texts[i]]] for i in range(len(texts))])
        return EmbedResult(matrix.astype(np.float32, copy=False), self.spec, self.role, input_tokens=tokens,
                           cost_usd=cost, latency_s=time.perf_counter() - started, cached=not missing)


def _as_messages(messages: Sequence[Message] | str) -> list[dict[str, str]]:
    """Plain OpenAI-shaped dicts (a bare string is one user turn), so the cache key is stable."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
