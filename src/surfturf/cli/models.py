"""`surfturf models`: check that a model answers, and show the price table and providers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from surfturf.errors import UserError
from surfturf.models import (
    PROVIDERS,
    GenerateConfig,
    ModelSession,
    RetryPolicy,
    parse_spec,
)
from surfturf.models.prices import load_prices
from surfturf.surf.generation import ROLE_DEFAULTS, role_settings

_FIXES = {
    "connection": "start the server or fix the base URL (--base-url)",
    "timeout": "check the server is up and not overloaded, or raise --timeout",
    "auth": "check the API key in the key variable",
    "rate_limit": "wait, or lower --max-concurrency / set --rpm",
    "bad_request": "check the model name in the spec",
}


@click.group()
def models() -> None:
    """Check model specs, show prices and providers."""


async def check_model(spec: str, base_url: str | None = None, key_env: str | None = None,
                      env_file: Path | None = None, timeout: float = 30.0,
                      config: GenerateConfig | None = None) -> str:
    """One uncached call to `spec` with the role's generation settings; the "ok: ..." line, or a UserError whose
    problem carries the server's own message."""
    parsed = parse_spec(spec)
    async with ModelSession(cache_dir=None, env_file=env_file, timeout_s=timeout,
                            retry=RetryPolicy(max_retries=2, base_s=0.5, cap_s=2.0)) as session:
        try:
            model = session.model("check", spec, config=config, base_url=base_url, api_key_env=key_env)
        except UserError as error:
            if PROVIDERS[parsed.provider].needs_base_url and not base_url:
                raise UserError(error.problem, "pass --base-url http://host:port/v1") from None
            raise
        where = f"{spec} at {model.endpoint.base_url}" if model.endpoint.base_url else spec
        if parsed.provider in ("hash", "st"):
            result = await model.embed(["a short test sentence"])
            error, ok = result.error, (f"embeds to {result.vectors.shape[1]} dimensions in {result.latency_s:.2f}s"
                                       if result.ok else "")
        else:
            answer = await model.generate([{"role": "user", "content": "Reply with the single word OK."}])
            error, ok = answer.error, f"answered {answer.text.strip()[:60]!r} in {answer.latency_s:.2f}s"
    if error:
        kind = error.split(":", 1)[0]
        raise UserError(f"{where} failed: {error}", _FIXES.get(kind, "check the spec, base URL and key"))
    return f"ok: {spec} {ok}"


@models.command()
@click.argument("spec")
@click.option("--base-url", default=None, help="Server base URL (default: the provider's).")
@click.option("--key-env", default=None, metavar="VAR", help="Environment variable holding the API key.")
@click.option("--env-file", type=click.Path(path_type=Path), default=None, help="A .env file with API keys.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0), default=None,
              help="Sampling temperature to send (as the role would).")
@click.option("--max-tokens", type=click.IntRange(min=1), default=None, help="Per-reply token cap to send.")
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=None, help="Nucleus sampling to send.")
@click.option("--stop", multiple=True, metavar="TEXT", help="Stop sequence to send (repeatable).")
@click.option("--seed", type=int, default=None, help="Sampling seed to send (where the provider takes one).")
@click.option("--role", type=click.Choice(sorted(ROLE_DEFAULTS)), default=None,
              help="Send this role's default settings (what a run would send), under the flags above.")
def check(spec: str, base_url: str | None, key_env: str | None, env_file: Path | None, timeout: float,
          temperature: float | None, max_tokens: int | None, top_p: float | None, stop: tuple[str, ...],
          seed: int | None, role: str | None) -> None:
    """Make one uncached call to SPEC (a chat, or an embedding for hash/ and st/); exit 2 if it fails."""
    if env_file is None and Path(".env").is_file():
        env_file = Path(".env")
    given = GenerateConfig(temperature=temperature, max_tokens=max_tokens, top_p=top_p, stop=stop or None, seed=seed)
    config = role_settings(role, given=given) if role else given
    click.echo(asyncio.run(check_model(spec, base_url, key_env, env_file, timeout, config)))


@models.command()
@click.option("--prices", "prices_file", type=click.Path(path_type=Path), default=None,
              help="A YAML/JSON price table to merge over the built-in one.")
def prices(prices_file: Path | None) -> None:
    """Print the price table (USD per 1M tokens); local providers are free."""
    table = load_prices(prices_file)
    click.echo(f"{'model':<40} {'input':>8} {'output':>8}")
    for name, price in sorted(table.items()):
        click.echo(f"{name:<40} {price.input:>8.2f} {price.output:>8.2f}")
    free = sorted(name for name, info in PROVIDERS.items() if info.free)
    click.echo(f"free (local or self-hosted): {', '.join(free)}")


@models.command()
def providers() -> None:
    """Print each provider's default base URL and API key variable."""
    click.echo(f"{'provider':<18} {'base URL':<32} key variable")
    for name, info in sorted(PROVIDERS.items()):
        key = (info.key_env or "-") + (" (required)" if info.key_required else "")
        url = info.base_url or ("(pass a base URL)" if info.needs_base_url else "(local)")
        if name == "world":
            url += " or $SURFTURF_WORLD_BASE_URL"
        click.echo(f"{name:<18} {url:<32} {key}")
