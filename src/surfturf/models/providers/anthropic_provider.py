"""Anthropic Messages API, with optional extended thinking (GenerateConfig.thinking_budget)."""

from __future__ import annotations

from typing import Any

import anthropic

from surfturf.models.providers.base import (
    CLIENTS,
    Completion,
    Provider,
    ProviderError,
    short,
    status_error,
    transport_error,
)
from surfturf.models.types import GenerateConfig, Message

DEFAULT_MAX_TOKENS = 1024
# The API version that still takes sampling settings: API 2026-10-21 (the default of SDK 2.x, which also
# dropped `temperature`/`top_p` from its signature) answers 400 to them at any value.
SAMPLING_API_VERSION = "2023-06-01"


def classify(error: Exception) -> ProviderError:
    """Map an anthropic SDK exception onto our error kinds (which decide retrying)."""
    if isinstance(error, anthropic.APIConnectionError):  # includes APITimeoutError
        return transport_error(error)
    if isinstance(error, anthropic.APIStatusError):
        return status_error(error.status_code, error.body, error.response.headers, overloaded=(408, 529))
    if isinstance(error, (anthropic.APIResponseValidationError, ValueError)):
        return ProviderError("malformed", f"unreadable response body: {short(str(error))}")
    return ProviderError("other", f"{type(error).__name__}: {short(str(error))}")


def request_args(messages: list[Message], config: GenerateConfig) -> dict[str, Any]:
    """Keyword arguments for `messages.create`, valid for every SDK version the pin allows.

    System turns move to `system`; thinking needs max_tokens above its budget and no sampling overrides.
    Sampling settings travel in `extra_body` under the API version that accepts them; the seed has no
    Anthropic equivalent and is not sent."""
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
        return args
    sampling = {name: value for name, value in (("temperature", config.temperature), ("top_p", config.top_p))
                if value is not None}
    if sampling:
        args["extra_body"] = sampling
        args["extra_headers"] = {"anthropic-version": SAMPLING_API_VERSION}
    return args


def parse_message(response: Any) -> Completion:
    """Text and thinking blocks of a Message; a reply with no content blocks at all is malformed (retried)."""
    blocks = getattr(response, "content", None)
    if not isinstance(blocks, list) or not blocks:
        raise ProviderError("malformed", "the message has no content blocks")
    text = "".join(block.text for block in blocks if getattr(block, "type", "") == "text")
    thinking = "".join(block.thinking for block in blocks if getattr(block, "type", "") == "thinking")
    usage = getattr(response, "usage", None)
    return Completion(
        text=text,
        input_tokens=getattr(usage, "input_tokens", 0) or 0,
        output_tokens=getattr(usage, "output_tokens", 0) or 0,
        thinking=thinking or None,
    )


class AnthropicProvider(Provider):
    """SDK client shared per endpoint and event loop (aiohttp transport, as for OpenAI); SDK retries off: the
    session retries."""

    def _make_client(self) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            api_key=self.endpoint.api_key or "EMPTY",
            base_url=self.endpoint.base_url,
            max_retries=0,
            timeout=self.timeout_s,
            http_client=anthropic.DefaultAioHttpClient(timeout=self.timeout_s),
        )

    def client(self) -> anthropic.AsyncAnthropic:
        key = ("anthropic", self.endpoint.base_url, self.endpoint.api_key, self.timeout_s)
        return CLIENTS.get(key, self._make_client, self)

    async def chat(self, messages: list[Message], config: GenerateConfig) -> Completion:
        try:
            response = await self.client().messages.create(
                model=self.endpoint.spec.model, **request_args(messages, config)
            )
        except Exception as error:  # every SDK failure becomes a classified ProviderError
            raise classify(error) from None
        return parse_message(response)

    async def aclose(self) -> None:
        await CLIENTS.release(self)
