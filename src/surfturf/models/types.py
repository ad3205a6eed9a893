"""Plain values that cross the model layer's boundary: messages, settings, results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypedDict

import numpy as np

ROLES: tuple[str, ...] = ("target", "generator", "judge", "extractor", "summariser", "perturber", "embedder")


class Message(TypedDict):
    """One chat turn, OpenAI-shaped: role is system, user or assistant."""

    role: str
    content: str


@dataclass(frozen=True)
class GenerateConfig:
    """Generation settings; every field is part of the cache key."""

    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    thinking_budget: int | None = None  # Anthropic extended thinking tokens; None = off

    def merged(self, other: GenerateConfig | None) -> GenerateConfig:
        """This config with every field that `other` sets overriding it."""
        if other is None:
            return self
        values = asdict(self)
        values.update({k: v for k, v in asdict(other).items() if v is not None})
        return GenerateConfig(**values)

    def key(self) -> dict[str, Any]:
        """The fields that are set (shallow: asdict's deep copy costs more than the rest of a cache lookup)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass
class ChatResult:
    """A completion, or the error that stopped it. Errors are values, never exceptions."""

    text: str
    model: str
    role: str
    # "<kind>: <detail>", redacted; kinds: rate_limit, server, timeout, connection, malformed, endpoint_down,
    # bad_request, auth, budget, parse, other (is_transient says which a rerun retries)
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    cached: bool = False
    thinking: str | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class EmbedResult:
    """L2-normalised float32 vectors (n x d), or the error that stopped the batch."""

    vectors: np.ndarray | None
    model: str
    role: str = "embedder"
    error: str | None = None
    input_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None
