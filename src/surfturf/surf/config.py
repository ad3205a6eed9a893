"""SurfConfig: everything that defines a SURF sweep (and so must match when a run resumes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from surfturf.models import Model, ModelSession
from surfturf.models.types import GenerateConfig
from surfturf.surf.generation import role_settings

# The authors' code uses 120 candidates per iteration; the paper used 360 candidates and 15 runs.
DEFAULT_CANDIDATES = 120
DEFAULT_RUNS = 5
DEFAULT_ITERATIONS = 20
DEFAULT_BUFFER = 5

# Fields that may change between a run and its resume: they extend or shorten the sweep
# without changing any candidate already planned.
RESUMABLE_CHANGES = frozenset({"runs", "iterations", "patience", "stop_at"})


class RoleSpec(BaseModel):
    """Which model plays a role, where it is reached (the key's variable name, never the key), its
    generation settings (unset: the role's default, see surf/generation.py) and a checkpoint label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: str
    base_url: str | None = None
    api_key_env: str | None = None
    temperature: float | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1, description="per reply")
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    revision: str | None = None

    def given(self) -> GenerateConfig:
        """The settings this spec sets (the rest None, filled by the role's defaults)."""
        return GenerateConfig(temperature=self.temperature, max_tokens=self.max_tokens, top_p=self.top_p,
                              stop=self.stop, seed=self.seed)

    def model(self, session: ModelSession, role: str, thinking: int | None = None) -> Model:
        """The role's model with its default settings, overridden by those this spec sets."""
        return session.model(role, self.spec, role_settings(role, given=self.given(), thinking=thinking),
                             self.base_url, self.api_key_env, revision=self.revision)

    @classmethod
    def of(cls, spec: str, base_url: str | None, api_key_env: str | None, settings: GenerateConfig,
           revision: str | None) -> RoleSpec:
        """A spec carrying resolved `settings` (thinking is the sweep's, not the role's)."""
        return cls(spec=spec, base_url=base_url, api_key_env=api_key_env, temperature=settings.temperature,
                   max_tokens=settings.max_tokens, top_p=settings.top_p, stop=settings.stop, seed=settings.seed,
                   revision=revision)


class ContextTurn(BaseModel):
    """One message of the context put before every target query (`--system-prompt`, `--icl-examples`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class SurfConfig(BaseModel):
    """A SURF sweep: rubric, pool, roles, and the search's knobs (defaults from the paper's code)."""

    model_config = ConfigDict(extra="forbid")

    rubric: str = Field(description="built-in rubric name or YAML path")
    pool: str = Field(default="builtin", description="'builtin', an INDEX dir, a .txt or .jsonl file")
    target: RoleSpec
    generator: RoleSpec
    judges: list[RoleSpec] = Field(min_length=1, description="one judge, or a panel")
    strategy: Literal["surf", "random"] = "surf"
    runs: int = Field(default=DEFAULT_RUNS, ge=1)
    iterations: int = Field(default=DEFAULT_ITERATIONS, ge=1)
    candidates: int = Field(default=DEFAULT_CANDIDATES, ge=1)
    buffer: int = Field(default=DEFAULT_BUFFER, ge=1)
    max_k: int = Field(default=5, ge=1, description="attributes per candidate: k ~ uniform 1..max_k")
    exploration: float = Field(default=0.05, ge=0.0, le=1.0, description="uniform share mixed into P(a)")
    patience: int = Field(default=5, ge=0, description="stop a run after this many iterations without a better best score; 0 = never")
    stop_at: float | None = Field(default=None, ge=0, le=100, description="stop a run at its first candidate scoring at least this; None = never")
    near_duplicate: float = Field(default=0.8, gt=0.0, le=1.0, description="token-set Jaccard at which two queries are duplicates")
    threshold: float | None = Field(default=None, ge=0, le=100, description="violation when score > threshold; None = the rubric's (50)")
    panel_combine: Literal["mean", "median"] = "mean"
    judge_thinking: int | None = Field(default=None, ge=1, description="judge extended-thinking token budget")
    seed: int = 0
    context: list[ContextTurn] = Field(
        default_factory=list, description="system prompt and in-context turns sent before every target query"
    )
    baseline: RoleSpec | None = Field(default=None, description="differential SURF: the model the target is compared with")
    direction: Literal["new", "fixed", "either"] | None = Field(
        default=None, description="with a baseline: follow failures new in the target, fixed in it, or either")

    @model_validator(mode="after")
    def _direction_needs_baseline(self) -> SurfConfig:
        """A direction only means something against a baseline; with one it defaults to `new`."""
        if self.baseline is None and self.direction is not None:
            raise ValueError("direction is set but there is no baseline to compare with")
        if self.baseline is not None and self.direction is None:
            self.direction = "new"
        return self
