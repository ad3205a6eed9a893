"""Model spec strings (`provider/model`) and the provider registry: defaults per provider, loaded lazily."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from surfturf.errors import UserError
from surfturf.models.redact import redact_url, register_secret, strip_credentials


@dataclass(frozen=True)
class ProviderInfo:
    """What a provider name means: its class (imported only when used), default base URL and key variable."""

    target: str  # "module:Class"
    base_url: str | None = None
    key_env: str | None = None
    key_required: bool = False
    free: bool = False  # local or self-hosted: costs nothing
    needs_base_url: bool = False


_OPENAI = "surfturf.models.providers.openai_compat:OpenAIProvider"
_COMPAT = "surfturf.models.providers.openai_compat:OpenAICompatibleProvider"

PROVIDERS: dict[str, ProviderInfo] = {
    "openai": ProviderInfo(_OPENAI, "https://api.openai.com/v1", "OPENAI_API_KEY", key_required=True),
    "anthropic": ProviderInfo(
        "surfturf.models.providers.anthropic_provider:AnthropicProvider",
        "https://api.anthropic.com",
        "ANTHROPIC_API_KEY",
        key_required=True,
    ),
    "openrouter": ProviderInfo("surfturf.models.providers.openai_compat:OpenRouterProvider", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", key_required=True),
    "together": ProviderInfo(_COMPAT, "https://api.together.xyz/v1", "TOGETHER_API_KEY", key_required=True),
    "vllm": ProviderInfo(_COMPAT, "http://127.0.0.1:8000/v1", "VLLM_API_KEY", free=True),
    "sglang": ProviderInfo(_COMPAT, "http://127.0.0.1:30000/v1", "SGLANG_API_KEY", free=True),
    "ollama": ProviderInfo(_COMPAT, "http://127.0.0.1:11434/v1", "OLLAMA_API_KEY", free=True),
    "llamacpp": ProviderInfo("surfturf.models.providers.openai_compat:LlamaCppProvider", "http://127.0.0.1:8080/v1", "LLAMACPP_API_KEY", free=True),
    "openai-compatible": ProviderInfo(_COMPAT, None, "OPENAI_COMPATIBLE_API_KEY", needs_base_url=True),
    "world": ProviderInfo(_COMPAT, "http://127.0.0.1:8765/v1", None, free=True),
    "hf": ProviderInfo("surfturf.models.providers.hf:HFProvider", free=True),
    "st": ProviderInfo("surfturf.models.providers.st:SentenceTransformerProvider", free=True),
    "hash": ProviderInfo("surfturf.models.providers.hashing:HashingProvider", free=True),
    "inspect": ProviderInfo("surfturf.models.providers.inspect_provider:InspectProvider"),
}


@dataclass(frozen=True)
class Spec:
    """A parsed `provider/model` string."""

    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


def parse_spec(spec: str) -> Spec:
    """Split `provider/model`; an unknown provider or empty model is a UserError."""
    provider, sep, model = spec.strip().partition("/")
    if not sep or not model:
        raise UserError(f"model spec {spec!r} is not provider/model", "write e.g. openai/gpt-4.1-mini or hash/384")
    if provider not in PROVIDERS:
        raise UserError(
            f"unknown model provider {provider!r} in spec {spec!r}",
            f"use one of {', '.join(sorted(PROVIDERS))}",
        )
    return Spec(provider, model)


@dataclass(frozen=True)
class Endpoint:
    """Where one model is reached. The key is kept out of repr and str so it is never printed or logged."""

    spec: Spec
    info: ProviderInfo
    base_url: str | None
    key_env: str | None
    api_key: str | None = field(default=None, repr=False)

    @property
    def server(self) -> str:
        """The full base URL without credentials (part of the cache key: path included), or "local"."""
        return strip_credentials(self.base_url) if self.base_url else "local"

    @property
    def shown(self) -> str:
        """How the endpoint is named to users: the redacted base URL, or the spec for a local model."""
        return redact_url(self.base_url) or str(self.spec)

    @property
    def slot_key(self) -> str:
        """The process-wide key for concurrency, rate limits, pauses and health: one per server (base URL,
        whatever spec or role reaches it), one per local model."""
        return self.server if self.base_url else str(self.spec)


def resolve_endpoint(
    spec: str | Spec, base_url: str | None, key_env: str | None, env: dict[str, str]
) -> Endpoint:
    """Fill in the provider's default base URL and key; a missing required key is a UserError naming the variable."""
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    info = PROVIDERS[parsed.provider]
    url = base_url or info.base_url
    if parsed.provider == "world":
        url = base_url or os.environ.get("SURFTURF_WORLD_BASE_URL") or info.base_url
    if info.needs_base_url and not url:
        raise UserError(
            f"provider {parsed.provider!r} needs a base URL for {parsed}",
            "pass --<role>-base-url http://host:port/v1 or set SURFTURF_<ROLE>_BASE_URL",
        )
    if url:
        register_secret(urlsplit(url).password)
    variable = key_env or info.key_env
    key = None
    if variable:
        key = os.environ.get(variable) or env.get(variable) or None
        if key is None and (info.key_required or key_env):
            raise UserError(
                f"API key variable {variable} is not set (needed by {parsed})",
                f"export {variable}=... or put it in a .env file",
            )
        register_secret(key)
    return Endpoint(parsed, info, url.rstrip("/") if url else None, variable, key)


def load_provider_class(info: ProviderInfo) -> type:
    """Import the provider's class only when a model of that provider is made."""
    module, name = info.target.split(":")
    return getattr(importlib.import_module(module), name)
