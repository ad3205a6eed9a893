"""Any Inspect AI model as a surfturf role: `inspect/<inspect model string>` (`inspect/google/gemini-2.5-pro`).

Inspect's retries, SDK retries and cache are off and its connection cap is out of the way, so our
cache, slots, retries and budgets stay in charge; its exceptions become our error kinds.
"""

from __future__ import annotations

import json
import re
from typing import Any

from surfturf.errors import UserError
from surfturf.models.providers.base import (
    CLIENTS,
    Completion,
    Provider,
    ProviderError,
    short,
    status_error,
    transport_error,
)
from surfturf.models.specs import Endpoint
from surfturf.models.types import GenerateConfig, Message

# Far above any --max-concurrency: the session's endpoint slots decide how many calls are in flight.
_NO_CONNECTION_CAP = 100_000


def inspect_config(config: GenerateConfig, timeout_s: float) -> Any:
    """Our settings as Inspect's GenerateConfig; one attempt per call (the session retries)."""
    from inspect_ai.model import GenerateConfig as InspectConfig

    return InspectConfig(
        max_retries=0,
        timeout=max(1, int(timeout_s)),
        attempt_timeout=max(1, int(timeout_s)),
        max_connections=_NO_CONNECTION_CAP,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        top_p=config.top_p,
        stop_seqs=list(config.stop) if config.stop else None,
        seed=config.seed,
        reasoning_tokens=config.thinking_budget,
    )


def inspect_messages(messages: list[Message]) -> list[Any]:
    """OpenAI-shaped turns as Inspect chat messages."""
    from inspect_ai.model import (
        ChatMessageAssistant,
        ChatMessageSystem,
        ChatMessageUser,
    )

    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
    return [kinds.get(m["role"], ChatMessageUser)(content=m["content"]) for m in messages]


def classify(error: BaseException) -> ProviderError:
    """An exception out of Inspect (tenacity's RetryError wraps the last attempt's) as our error kind."""
    last_attempt = getattr(error, "last_attempt", None)
    if last_attempt is not None and last_attempt.exception() is not None:
        error = last_attempt.exception()
    module = type(error).__module__.split(".")[0]
    if module == "openai":
        from surfturf.models.providers.openai_compat import classify as classify_openai

        return classify_openai(error)  # type: ignore[arg-type]
    if module == "anthropic":
        from surfturf.models.providers.anthropic_provider import (
            classify as classify_anthropic,
        )

        return classify_anthropic(error)  # type: ignore[arg-type]
    status = getattr(error, "status_code", None) or getattr(error, "code", None)
    if isinstance(status, int) and 400 <= status < 600:
        response = getattr(error, "response", None)
        return status_error(status, str(error), getattr(response, "headers", None))
    if isinstance(error, (TimeoutError, ConnectionError, OSError)) or "timeout" in type(error).__name__.lower():
        return transport_error(error)
    if isinstance(error, (json.JSONDecodeError, ValueError)):
        return ProviderError("malformed", f"malformed response: {short(str(error))}")
    return ProviderError("other", f"{type(error).__name__}: {short(str(error))}")


class _LoopModel:
    """One Inspect model per event loop (its SDK clients cannot cross loops), closed with the session."""

    def __init__(self, model: Any) -> None:
        self.model = model

    async def close(self) -> None:
        await self.model.__aexit__(None, None, None)


class InspectProvider(Provider):
    """Chat through `inspect_ai.model.get_model`; `--<role>-base-url` and `--<role>-key-env` reach it too."""

    cacheable = True

    def __init__(self, endpoint: Endpoint, timeout_s: float) -> None:
        super().__init__(endpoint, timeout_s)
        try:
            import inspect_ai  # noqa: F401
        except ImportError:
            raise UserError(f"{endpoint.spec} needs Inspect AI, which is not installed",
                            "pip install 'surfturf[inspect]'") from None

    def _make_model(self) -> _LoopModel:
        from inspect_ai.model import get_model

        name = self.endpoint.spec.model
        # The SDK clients behind Inspect's OpenAI-style and Anthropic providers retry on their own unless told not to.
        sdk_args = {"max_retries": 0} if _forwards_sdk_retries(name) else {}
        try:
            model = get_model(name, base_url=self.endpoint.base_url, api_key=self.endpoint.api_key,
                              memoize=False, **sdk_args)
        except Exception as error:  # an unknown Inspect provider or a missing key, said in Inspect's words
            message = re.sub(r"\[/?[a-z ]+\]", "", str(error))  # Inspect's rich markup
            raise ProviderError("bad_request", f"Inspect cannot make {name}: {short(message)}") from None
        return _LoopModel(model)

    async def chat(self, messages: list[Message], config: GenerateConfig) -> Completion:
        key = ("inspect", self.endpoint.spec.model, self.endpoint.base_url, self.endpoint.api_key)
        model = CLIENTS.get(key, self._make_model, self).model
        try:
            output = await model.generate(inspect_messages(messages), config=inspect_config(config, self.timeout_s),
                                          cache=False)
        except Exception as error:  # every Inspect or SDK failure becomes a classified ProviderError
            raise classify(error) from None
        if output.error:
            raise ProviderError("other", short(str(output.error)))
        if not output.choices:
            raise ProviderError("malformed", "Inspect returned no choices")
        usage = output.usage
        return Completion(
            text=output.completion or "",
            input_tokens=int(usage.input_tokens) if usage else 0,
            output_tokens=int(usage.output_tokens) if usage else 0,
            thinking=_reasoning(output.message.content) or None,
        )

    async def aclose(self) -> None:
        await CLIENTS.release(self)


def _forwards_sdk_retries(name: str) -> bool:
    """Inspect providers built on the openai or anthropic SDK pass extra model args to the SDK client."""
    provider = name.split("/", 1)[0]
    return provider in {"openai", "openai-api", "anthropic", "openrouter", "together", "vllm", "sglang", "ollama",
                        "llama-cpp-python", "groq", "fireworks", "grok", "deepseek", "perplexity", "azureai"}


def _reasoning(content: Any) -> str:
    """The reasoning blocks of an Inspect message, joined (empty when the model gave none)."""
    if isinstance(content, str):
        return ""
    return "\n".join(getattr(block, "reasoning", "") for block in content if getattr(block, "type", "") == "reasoning")
