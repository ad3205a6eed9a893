"""OpenAI and OpenAI-compatible servers (vLLM, SGLang, Ollama, llama.cpp, OpenRouter, Together, the world)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import openai

from surfturf.models.providers.base import (
    CLIENTS,
    Completion,
    Provider,
    ProviderError,
    ServerLimits,
    normalise,
    short,
    status_error,
    transport_error,
)
from surfturf.models.types import GenerateConfig, Message


def classify(error: Exception) -> ProviderError:
    """Map an openai SDK exception onto our error kinds (which decide retrying)."""
    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return transport_error(error)
    if isinstance(error, openai.APIStatusError):
        return status_error(error.status_code, error.body, error.response.headers)
    if isinstance(error, (openai.APIResponseValidationError, json.JSONDecodeError, ValueError)):
        return ProviderError("malformed", f"unreadable response body: {short(str(error))}")
    return ProviderError("other", f"{type(error).__name__}: {short(str(error))}")


def parse_chat(data: dict[str, Any]) -> Completion:
    """A chat completion body: no choices, or a message with neither content nor reasoning, is malformed
    (retried: proxies and overloaded servers send such bodies now and then)."""
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ProviderError("malformed", f"no choices in the chat response: {short(json.dumps(data, default=str))}")
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    if not isinstance(message, dict):
        raise ProviderError("malformed", "the chat response's first choice has no message")
    text = message.get("content")
    thinking = message.get("reasoning_content") or message.get("reasoning") or None
    if not isinstance(text, str) and not thinking:
        raise ProviderError("malformed", "the chat response's message has no content")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    try:
        return Completion(text=text if isinstance(text, str) else "",
                          input_tokens=int(usage.get("prompt_tokens") or 0),
                          output_tokens=int(usage.get("completion_tokens") or 0), thinking=thinking)
    except (TypeError, ValueError) as error:
        raise ProviderError("malformed", f"unreadable usage in the chat response: {short(str(error))}") from None


class OpenAICompatibleProvider(Provider):
    """Chat completions and embeddings over the OpenAI wire format, one SDK client per event loop."""

    uses_max_completion_tokens = False

    def _make_client(self) -> openai.AsyncOpenAI:
        """SDK retries off: the session retries. aiohttp transport: httpcore's pool scans every
        connection per request, which caps throughput near 100 calls/s at concurrency 64 on two cores."""
        return openai.AsyncOpenAI(
            api_key=self.endpoint.api_key or "EMPTY",
            base_url=self.endpoint.base_url,
            max_retries=0,
            timeout=self.timeout_s,
            http_client=openai.DefaultAioHttpClient(timeout=self.timeout_s),
        )

    def client(self) -> openai.AsyncOpenAI:
        """The running loop's SDK client for this endpoint (base URL and key), shared with every other role and
        model name on it."""
        key = ("openai", self.endpoint.base_url, self.endpoint.api_key, self.timeout_s)
        return CLIENTS.get(key, self._make_client, self)

    def request_args(self, config: GenerateConfig) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if config.temperature is not None:
            args["temperature"] = config.temperature
        if config.max_tokens is not None:
            args["max_completion_tokens" if self.uses_max_completion_tokens else "max_tokens"] = config.max_tokens
        if config.top_p is not None:
            args["top_p"] = config.top_p
        if config.stop:
            args["stop"] = list(config.stop)
        if config.seed is not None:
            args["seed"] = config.seed
        if config.thinking_budget:
            args.update(self.thinking_args(config.thinking_budget))
        return args

    def thinking_args(self, budget: int) -> dict[str, Any]:
        """Self-hosted servers (vLLM, SGLang, llama.cpp, Ollama) switch thinking on in the chat template; the
        budget itself is only bounded by max_tokens there."""
        return {"chat_template_kwargs": {"enable_thinking": True}}

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST through the SDK (auth, timeouts, typed errors) without its typed transforms: with `cast_to=object`
        the body goes as-is and the JSON comes back as a dict, which saves ~2 ms of CPU per call; an absolute
        URL skips the SDK's URL merging (another ~0.05 ms)."""
        try:
            data = await self.client().post(f"{self.endpoint.base_url}{path}", body=body, cast_to=object)
        except Exception as error:  # every SDK failure becomes a classified ProviderError
            raise classify(error) from None
        if not isinstance(data, dict):
            raise ProviderError("malformed", f"expected a JSON object, got {short(repr(data))}")
        return data

    async def chat(self, messages: list[Message], config: GenerateConfig) -> Completion:
        return parse_chat(await self._post(
            "/chat/completions", {"model": self.endpoint.spec.model, "messages": messages, **self.request_args(config)}
        ))

    async def embed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        data = await self._post("/embeddings", {"model": self.endpoint.spec.model, "input": texts})
        try:
            items = sorted(data["data"], key=lambda item: item["index"])
            vectors = np.array([item["embedding"] for item in items], dtype=np.float32)
            tokens = int((data.get("usage") or {}).get("prompt_tokens") or 0)
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise ProviderError("malformed", f"unreadable embeddings response: {type(error).__name__}: "
                                             f"{short(str(error))}") from None
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ProviderError("malformed", f"asked for {len(texts)} embeddings, got shape {vectors.shape}")
        return normalise(vectors), tokens

    async def aclose(self) -> None:
        await CLIENTS.release(self)


class OpenAIProvider(OpenAICompatibleProvider):
    """api.openai.com: newer models take `max_completion_tokens` instead of `max_tokens`; reasoning models
    think by themselves (the API takes no token budget), so a thinking budget sends nothing."""

    uses_max_completion_tokens = True

    def thinking_args(self, budget: int) -> dict[str, Any]:
        return {}


class OpenRouterProvider(OpenAICompatibleProvider):
    """openrouter.ai: its unified `reasoning` field takes a token budget for every model family that thinks."""

    def thinking_args(self, budget: int) -> dict[str, Any]:
        return {"reasoning": {"max_tokens": budget}}


class LlamaCppProvider(OpenAICompatibleProvider):
    """llama.cpp's server (and llama-cpp-python's): it reports its slots and context window, so the session
    can cap concurrency and prompts can be fitted."""

    async def server_limits(self) -> ServerLimits:
        """llama.cpp answers GET /props (total_slots, n_ctx); llama-cpp-python serves one request at a time and
        reports n_ctx in GET /v1/models' metadata. Unknown values stay None."""
        root = self.endpoint.base_url.removesuffix("/v1") if self.endpoint.base_url else ""
        props = await self._get(f"{root}/props")
        if props is not None:
            settings = props.get("default_generation_settings")
            n_ctx = props.get("n_ctx") or (settings.get("n_ctx") if isinstance(settings, dict) else None)
            slots = props.get("total_slots")
            return ServerLimits(slots=_positive(slots), context_tokens=_positive(n_ctx))
        listing = await self._get(f"{self.endpoint.base_url}/models")
        models = listing.get("data") if listing else None
        meta = models[0].get("meta") if isinstance(models, list) and models and isinstance(models[0], dict) else None
        n_ctx = meta.get("n_ctx") if isinstance(meta, dict) else None
        return ServerLimits(slots=1 if listing is not None else None, context_tokens=_positive(n_ctx))

    async def _get(self, url: str) -> dict[str, Any] | None:
        """A JSON object from GET `url`, or None when the server does not answer it."""
        try:
            data = await self.client().get(url, cast_to=object)
        except Exception:  # an endpoint this server does not have: its limits are unknown, not an error
            return None
        return data if isinstance(data, dict) else None


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None
