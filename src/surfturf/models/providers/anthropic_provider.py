"""Anthropic Messages API, with optional extended thinking (GenerateConfig.thinking_budget)."""

from __future__ import annotations

from typing import Any

import anthropic

from surfturf.models.providers.base import (
    Completion,
    LoopClients,
    Provider,
    ProviderError,
    short,
    status_error,
    transport_error,
)
from surfturf.models.types import GenerateConfig, Message

DEFAULT_MAX_TOKENS = 1024


def classify(error: Exception) -> ProviderError:
    """Map an anthropic SDK exception onto our error kinds (which decide retrying)."""
    if isinstance(error, anthropic.APIConnectionError):  # includes APITimeoutError
        return transport_error(error)
    if isinstance(error, anthropic.APIStatusError):
        return status_error(error.status_code, str(error.message), error.response.headers, overloaded=(408, 529))
    if isinstance(error, (anthropic.APIResponseValidationError, ValueError)):
        return ProviderError("parse", f"malformed response: {short(str(error))}")
    return ProviderError("other", f"{type(error).__name__}: {short(str(error))}")


def request_args(messages: list[Message], config: GenerateConfig) -> dict[str, Any]:
    """System turns move to `system`; thinking needs max_tokens above its budget and no sampling overrides."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"]
    args: dict[str, Any] = {"messages": turns, "max_tokens": config.max_tokens or DEFAULT_MAX_TOKENS}
    if system:
        args["system"] = system
    if config.stop:
        args["stop_sequences"] = list(config.stop)
    if config.thinking_budget:
        args["thinking"] = {"type": "enabled", "budget_tokens": config.thinking_budget}
        args["max_tokens"] = config.thinking_budget + (config.max_tokens or DEFAULT_MAX_TOKENS)
    else:
        if config.temperature is not None:
            args["temperature"] = config.temperature
        if config.top_p is not None:
            args["top_p"] = config.top_p
    return args


class AnthropicProvider(Provider):
    """One SDK client per event loop (aiohttp transport, as for OpenAI); SDK retries off: the session retries."""

    def __init__(self, endpoint, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
        super().__init__(endpoint, timeout_s)
        self._clients = LoopClients(self._make_client)

    def _make_client(self) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            api_key=self.endpoint.api_key or "EMPTY",
            base_url=self.endpoint.base_url,
            max_retries=0,
            timeout=self.timeout_s,
            http_client=anthropic.DefaultAioHttpClient(timeout=self.timeout_s),
        )

    def client(self) -> anthropic.AsyncAnthropic:
        return self._clients.get()

    async def chat(self, messages: list[Message], config: GenerateConfig) -> Completion:
        try:
            response = await self.client().messages.create(
                model=self.endpoint.spec.model, **request_args(messages, config)
            )
        except Exception as error:  # every SDK failure becomes a classified ProviderError
            raise classify(error) from None
        text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
        thinking = "".join(
            block.thinking for block in response.content if getattr(block, "type", "") == "thinking"
        )
        usage = response.usage
        return Completion(
            text=text,
            input_tokens=getattr(usage, "input_tokens", 0) or 0,
            output_tokens=getattr(usage, "output_tokens", 0) or 0,
            thinking=thinking or None,
        )

    async def aclose(self) -> None:
        await self._clients.aclose()
