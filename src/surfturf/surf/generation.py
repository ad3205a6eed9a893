"""Per-role generation defaults: one table, each row with why it fits the role; and `RoleConfig`,
one role's model as a command was given it.

Every command resolves a role's settings as this row, then the command's own base (if any), then
what the user passed (`--<role>-temperature` ...). The resolved GenerateConfig goes to the provider,
into the cache key, and into the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from surfturf.errors import UserError
from surfturf.models.model import Model
from surfturf.models.session import ModelSession
from surfturf.models.types import GenerateConfig

ROLE_DEFAULTS: dict[str, GenerateConfig] = {
    # Same query and response, same score; room for a small model to reason before its tags.
    "judge": GenerateConfig(temperature=0.0, max_tokens=2048),
    # Candidates must differ from each other: sample at the usual creative setting.
    "generator": GenerateConfig(temperature=1.0, max_tokens=512),
    # The behaviour under test: the provider's own sampling unless the user sets it; a reply cap so a
    # rambling target cannot push the judge past its context.
    "target": GenerateConfig(max_tokens=1024),
    # Rephrasings should vary but keep the substance: a little below the generator.
    "perturber": GenerateConfig(temperature=0.9, max_tokens=512),
    # Extraction and summaries are read as data: deterministic, short.
    "extractor": GenerateConfig(temperature=0.0, max_tokens=600),
    "summariser": GenerateConfig(temperature=0.0, max_tokens=120),
}
# Differential SURF's baseline answers as the target does, so a difference comes from the models.
ROLE_DEFAULTS["baseline"] = ROLE_DEFAULTS["target"]

# With extended thinking the reply must hold the thinking budget plus the tagged answer.
THINKING_ANSWER_TOKENS = 1024


def role_settings(role: str, base: GenerateConfig | None = None, given: GenerateConfig | None = None,
                  thinking: int | None = None) -> GenerateConfig:
    """The role's row, overridden by the command's `base`, then by the user's `given` settings."""
    settings = ROLE_DEFAULTS.get(role, GenerateConfig()).merged(base)
    if thinking:
        settings = settings.merged(GenerateConfig(thinking_budget=thinking,
                                                  max_tokens=thinking + THINKING_ANSWER_TOKENS))
    return settings.merged(given)


@dataclass(frozen=True)
class RoleConfig:
    """One role's model: spec (None if neither flag nor SURFTURF_<ROLE> gave one), base URL, key variable
    name, the generation settings the user gave (`config`, unset fields None) and a checkpoint label."""

    role: str
    spec: str | None
    base_url: str | None = None
    key_env: str | None = None
    config: GenerateConfig = field(default_factory=GenerateConfig)
    revision: str | None = None

    def settings(self, base: GenerateConfig | None = None, thinking: int | None = None) -> GenerateConfig:
        """What the role sends: its default row, the command's `base`, then the user's settings."""
        return role_settings(self.role, base, self.config, thinking)

    def record(self, base: GenerateConfig | None = None) -> dict[str, Any]:
        """For manifests: the model, its resolved settings and revision (never a key)."""
        return {"spec": self.spec, "base_url": self.base_url, "settings": self.settings(base).key(),
                "revision": self.revision}

    def require(self) -> str:
        """The spec, or a UserError telling how to give one."""
        if not self.spec:
            raise UserError(
                f"no model given for role {self.role}",
                f"pass --{self.role} PROVIDER/MODEL or set SURFTURF_{self.role.upper()}",
            )
        return self.spec

    def model(self, session: ModelSession, config: GenerateConfig | None = None) -> Model:
        """The role's model with `settings(config)`; the revision goes to the cache key when given."""
        return session.model(self.role, self.require(), config=self.settings(config), base_url=self.base_url,
                             api_key_env=self.key_env, revision=self.revision)
