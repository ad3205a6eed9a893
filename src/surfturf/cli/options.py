"""Shared click decorators for every command that calls models: runtime settings and per-role model specs
(each role read into a `surfturf.surf.generation.RoleConfig`)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

import click

from surfturf.cli.urls import check_base_url
from surfturf.io.ownership import claim_dir
from surfturf.models.accounting import Budget
from surfturf.models.cache import CACHE_MODES
from surfturf.models.session import ModelSession
from surfturf.models.types import GenerateConfig
from surfturf.surf.generation import ROLE_DEFAULTS, RoleConfig

_RUNTIME_KEYS = ("cache_dir", "cache_mode", "max_concurrency", "rpm", "tpm", "max_calls", "max_total_tokens", "max_usd",
                 "prices", "env_file", "timeout", "dry_run")


@dataclass(frozen=True)
class RuntimeOptions:
    """What `@runtime_options` collected; `.session()` turns it into a ModelSession."""

    cache_dir: Path | None
    cache_mode: str
    max_concurrency: int
    rpm: float | None
    tpm: float | None
    budget: Budget
    prices: Path | None
    env_file: Path | None
    timeout_s: float
    dry_run: bool

    def session(self, ledger: Path | None = None) -> ModelSession:
        """`ledger`: the output folder's spend.jsonl, so budgets count what every process spent there."""
        return ModelSession(
            ledger=ledger,
            cache_dir=self.cache_dir if self.cache_mode != "off" else None,
            cache_mode=self.cache_mode,
            max_concurrency=self.max_concurrency,
            rpm=self.rpm,
            tpm=self.tpm,
            budget=self.budget,
            prices=self.prices,
            env_file=self.env_file,
            timeout_s=self.timeout_s,
        )

    def claim(self, out: Path, kind: str) -> None:
        """Own and lock the output folder for the command's life (a UserError leaves it as it was); a
        dry run writes nothing, so it claims nothing."""
        if not self.dry_run:
            click.get_current_context().with_resource(claim_dir(out, kind, resume=False))

    def config(self) -> dict[str, Any]:
        """For manifests: every setting, no keys (keys never pass through here)."""
        return {
            "cache_dir": str(self.cache_dir) if self.cache_dir else None, "cache_mode": self.cache_mode,
            "max_concurrency": self.max_concurrency, "rpm": self.rpm, "tpm": self.tpm,
            "budget": dict(zip(("max_calls", "max_total_tokens", "max_usd"), astuple(self.budget))),
            "prices": str(self.prices) if self.prices else None, "timeout_s": self.timeout_s,
        }


def _renamed_max_tokens(context: click.Context, parameter: click.Parameter, value: str | None) -> None:
    """`--max-tokens` meant a run-wide budget here but a per-reply cap in Inspect and OpenAI: refuse it."""
    if value is not None:
        raise click.UsageError("--max-tokens is ambiguous; use --max-total-tokens for the run-wide budget "
                               "or --<role>-max-tokens (e.g. --target-max-tokens) for the per-reply cap")


def runtime_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Adds cache, concurrency, rate, budget, price, env-file, timeout and --dry-run flags; passes `runtime`."""
    options = [
        click.option("--cache-dir", type=click.Path(path_type=Path), default=Path(".surfturf-cache"),
                     envvar="SURFTURF_CACHE_DIR", show_default=True, help="Model-call cache directory."),
        click.option("--cache", "cache_mode", type=click.Choice(CACHE_MODES), default="read-write",
                     show_default=True, help="Model cache mode."),
        click.option("--max-concurrency", type=click.IntRange(min=1), default=32, show_default=True,
                     help="In-flight requests per endpoint, shared by the whole process."),
        click.option("--rpm", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Requests per minute per endpoint."),
        click.option("--tpm", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Tokens per minute per endpoint."),
        click.option("--max-calls", type=click.IntRange(min=0), default=None, help="Stop after this many model calls."),
        click.option("--max-total-tokens", type=click.IntRange(min=0), default=None,
                     help="Stop after this many tokens, all calls together."),
        click.option("--max-tokens", expose_value=False, hidden=True, callback=_renamed_max_tokens),
        click.option("--max-usd", type=click.FloatRange(min=0), default=None, help="Stop after spending this much."),
        click.option("--prices", type=click.Path(path_type=Path), default=None,
                     help="YAML/JSON price table overriding the built-in one (USD per 1M tokens)."),
        click.option("--env-file", type=click.Path(path_type=Path), default=None,
                     help="A .env file with API keys (default: ./.env if present)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=120.0, show_default=True,
                     help="Seconds per model request before it counts as timed out."),
        click.option("--dry-run", is_flag=True, help="Print planned calls and estimated cost, call nothing."),
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {key: kwargs.pop(key) for key in _RUNTIME_KEYS}
        env_file = values["env_file"]
        if env_file is None and Path(".env").is_file():
            env_file = Path(".env")
        kwargs["runtime"] = RuntimeOptions(
            cache_dir=values["cache_dir"],
            cache_mode=values["cache_mode"],
            max_concurrency=values["max_concurrency"],
            rpm=values["rpm"],
            tpm=values["tpm"],
            budget=Budget(values["max_calls"], values["max_total_tokens"], values["max_usd"]),
            prices=values["prices"],
            env_file=env_file,
            timeout_s=values["timeout"],
            dry_run=values["dry_run"],
        )
        return command(*args, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def role_options(
    *roles: str, defaults: dict[str, str] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """For each role: --<role> SPEC, --<role>-base-url, --<role>-key-env; passes `roles: dict[str, RoleConfig]`.

    A role's spec defaults to $SURFTURF_<ROLE>, then to `defaults[role]`; base URL and key variable to
    $SURFTURF_<ROLE>_BASE_URL and $SURFTURF_<ROLE>_KEY_ENV.
    """
    fallback = defaults or {}

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            configs = {}
            for role in roles:
                name = role.replace("-", "_")
                spec = kwargs.pop(f"{name}_spec") or os.environ.get(f"SURFTURF_{name.upper()}") or fallback.get(role)
                given, revision = pop_settings(kwargs, name) if role in ROLE_DEFAULTS else (GenerateConfig(), None)
                configs[role] = RoleConfig(role, spec, check_base_url(role, kwargs.pop(f"{name}_base_url")), kwargs.pop(f"{name}_key_env"),
                                           given, revision)
            kwargs["roles"] = configs
            return command(*args, **kwargs)

        for role in reversed(roles):
            name = role.replace("-", "_")
            upper = name.upper()
            if role in ROLE_DEFAULTS:
                wrapper = setting_options(role, name, upper)(wrapper)
            default_note = f" [default: $SURFTURF_{upper}" + (f", else {fallback[role]}]" if role in fallback else "]")
            wrapper = click.option(f"--{role}-key-env", f"{name}_key_env", default=None,
                                   envvar=f"SURFTURF_{upper}_KEY_ENV", metavar="VAR",
                                   help=f"Environment variable holding the {role}'s API key.")(wrapper)
            wrapper = click.option(f"--{role}-base-url", f"{name}_base_url", default=None,
                                   envvar=f"SURFTURF_{upper}_BASE_URL", metavar="URL",
                                   help=f"Base URL for the {role}'s server.")(wrapper)
            wrapper = click.option(f"--{role}", f"{name}_spec", default=None, metavar="PROVIDER/MODEL",
                                   help=f"Model for the {role} role{default_note}.")(wrapper)
        return wrapper

    return decorate


def pop_settings(kwargs: dict[str, Any], name: str) -> tuple[GenerateConfig, str | None]:
    """The generation settings a user gave for one role (unset ones None) and its revision."""
    stop = kwargs.pop(f"{name}_stop")
    config = GenerateConfig(
        temperature=kwargs.pop(f"{name}_temperature"), max_tokens=kwargs.pop(f"{name}_max_tokens"),
        top_p=kwargs.pop(f"{name}_top_p"), stop=tuple(stop) if stop else None, seed=kwargs.pop(f"{name}_seed"),
    )
    return config, kwargs.pop(f"{name}_revision")


def setting_options(role: str, name: str | None = None, upper: str | None = None
                    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--<role>-temperature, -max-tokens, -top-p, -stop, -seed, -revision; defaults from ROLE_DEFAULTS.
    Read them back with `pop_settings(kwargs, name)`."""
    row = ROLE_DEFAULTS[role]
    name = name or role.replace("-", "_")
    upper = upper or name.upper()

    def note(value: object) -> str:
        return f" [default: {value}]" if value is not None else " [default: the provider's]"

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option(f"--{role}-temperature", f"{name}_temperature", type=click.FloatRange(min=0), default=None,
                         envvar=f"SURFTURF_{upper}_TEMPERATURE",
                         help=f"Sampling temperature for the {role}{note(row.temperature)}."),
            click.option(f"--{role}-max-tokens", f"{name}_max_tokens", type=click.IntRange(min=1), default=None,
                         envvar=f"SURFTURF_{upper}_MAX_TOKENS",
                         help=f"Most tokens in one {role} reply{note(row.max_tokens)}."),
            click.option(f"--{role}-top-p", f"{name}_top_p", type=click.FloatRange(0, 1, min_open=True), default=None,
                         envvar=f"SURFTURF_{upper}_TOP_P", help=f"Nucleus sampling for the {role}{note(row.top_p)}."),
            click.option(f"--{role}-stop", f"{name}_stop", multiple=True, envvar=f"SURFTURF_{upper}_STOP",
                         metavar="TEXT", help=f"Stop sequence for the {role} (repeatable)."),
            click.option(f"--{role}-seed", f"{name}_seed", type=int, default=None, envvar=f"SURFTURF_{upper}_SEED",
                         help=f"Sampling seed sent to the {role}'s provider (where it takes one)."),
            click.option(f"--{role}-revision", f"{name}_revision", default=None, envvar=f"SURFTURF_{upper}_REVISION",
                         metavar="LABEL", help=f"Checkpoint label for the {role} (cache key and manifest)."),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
