"""`surfturf surf run` (search for rubric violations) and `surfturf surf top` (read the findings)."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path

import click

from surfturf.attributes.pools import AttributePool
from surfturf.cli.options import RoleConfig, RuntimeOptions, role_options, runtime_options
from surfturf.errors import UserError
from surfturf.io.ownership import claim_dir
from surfturf.models import ModelSession
from surfturf.models.specs import parse_spec
from surfturf.rubrics import Rubric, load_rubric
from surfturf.surf.config import (
    DEFAULT_BUFFER,
    DEFAULT_CANDIDATES,
    DEFAULT_ITERATIONS,
    DEFAULT_RUNS,
    RoleSpec,
    SurfConfig,
)
from surfturf.surf.context import build_prefix, context_options
from surfturf.surf.differential import DIRECTIONS
from surfturf.surf.dryrun import needs_probe, plan, probe
from surfturf.surf.findings import load_findings
from surfturf.surf.loop import LEDGER, run_surf


@click.group()
def surf() -> None:
    """SURF: find prompts on which a target model violates a rubric."""


def _role(config: RoleConfig, thinking: int | None = None) -> RoleSpec:
    """The role's spec with its resolved settings, so the manifest records what was sent."""
    return RoleSpec.of(config.require(), config.base_url, config.key_env, config.settings(thinking=thinking),
                       config.revision)


def _panel(judge: RoleConfig, extra: tuple[str, ...], thinking: int | None) -> list[RoleSpec]:
    """The judge plus panel members, all with the judge's settings; a member on the judge's provider
    shares its base URL and key."""
    judges = [_role(judge, thinking)]
    provider = parse_spec(judges[0].spec).provider
    for spec in extra:
        same = parse_spec(spec).provider == provider
        judges.append(judges[0].model_copy(update={"spec": spec, "base_url": judge.base_url if same else None,
                                                   "api_key_env": judge.key_env if same else None,
                                                   "revision": None}))
    return judges


@surf.command("run")
@click.option("--rubric", required=True, help="Built-in rubric name (see `surfturf rubrics list`) or a YAML path.")
@click.option("--pool", default="builtin", show_default=True,
              help="Attribute pool: 'builtin', an INDEX dir, a pseudo-SAE/.jsonl list or a .txt file.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Run directory; rerunning the same command resumes it.")
@click.option("--strategy", type=click.Choice(["surf", "random"]), default="surf", show_default=True,
              help="'random' samples attributes uniformly every iteration (the baseline).")
@click.option("--runs", type=click.IntRange(min=1), default=DEFAULT_RUNS, show_default=True,
              help="Independent runs in parallel (the paper used 15).")
@click.option("--iterations", type=click.IntRange(min=1), default=DEFAULT_ITERATIONS, show_default=True)
@click.option("--candidates", type=click.IntRange(min=1), default=DEFAULT_CANDIDATES, show_default=True,
              help="Candidates per iteration (the authors' code: 120; the paper: 360).")
@click.option("--buffer", type=click.IntRange(min=1), default=DEFAULT_BUFFER, show_default=True,
              help="Replay buffer size per run.")
@click.option("--max-k", type=click.IntRange(min=1), default=5, show_default=True,
              help="Attributes per candidate: k ~ uniform 1..max-k.")
@click.option("--exploration", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Share of uniform sampling mixed into the attribute weights.")
@click.option("--patience", type=click.IntRange(min=0), default=5, show_default=True,
              help="Stop a run after this many iterations without a better best score (0: never).")
@click.option("--stop-at", type=click.FloatRange(0, 100), default=None,
              help="Stop a run once a candidate scores at least this: a cheap screen for any clear failure.")
@click.option("--threshold", type=click.FloatRange(0, 100), default=None,
              help="Score above which a candidate is a violation [default: the rubric's, 50].")
@click.option("--judge-panel", multiple=True, metavar="PROVIDER/MODEL",
              help="Extra judges whose scores are combined with --judge's (repeatable).")
@click.option("--panel-combine", type=click.Choice(["mean", "median"]), default="mean", show_default=True)
@click.option("--judge-thinking", type=click.IntRange(min=1), default=None,
              help="Extended-thinking token budget for the judge.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--direction", type=click.Choice(DIRECTIONS), default=None,
              help="With --baseline: follow failures new in the target (B violates, the baseline A does not; A "
                   "answers only where B's score is above the rubric's lowest band), fixed in it (the reverse) or "
                   "either (both answer every candidate)  [default: new].")
@context_options
@role_options("target", "generator", "judge", "baseline")
@runtime_options
def run(
    rubric: str, pool: str, out_dir: Path, strategy: str, runs: int, iterations: int, candidates: int, buffer: int,
    max_k: int, exploration: float, patience: int, stop_at: float | None, threshold: float | None,
    judge_panel: tuple[str, ...], panel_combine: str, judge_thinking: int | None, seed: int, direction: str | None,
    system_prompt: Path | None, icl_examples: int,
    icl_file: Path | None, roles: dict[str, RoleConfig], runtime: RuntimeOptions,
) -> None:
    """Search for prompts on which the target violates RUBRIC; writes OUT/ (see docs/CONTRACTS.md).
    With --system-prompt / --icl-examples the target answers behind that context (recorded in the
    manifest's config, so a resume must pass the same). With --baseline A (differential SURF) the
    search follows the difference of the two models' scores, asking the second model only where its
    answer could change the verdict or the search (`--direction either`: both, every candidate)."""
    prefix, _ = build_prefix(system_prompt, icl_examples, icl_file)
    baseline = _baseline(roles, direction)
    config = SurfConfig(
        rubric=rubric, pool=pool, target=_role(roles["target"]), generator=_role(roles["generator"]),
        judges=_panel(roles["judge"], judge_panel, judge_thinking), strategy=strategy, runs=runs, iterations=iterations,
        candidates=candidates, buffer=buffer, max_k=max_k, exploration=exploration, patience=patience,
        stop_at=stop_at, threshold=threshold, panel_combine=panel_combine, judge_thinking=judge_thinking, seed=seed,
        context=prefix, baseline=baseline, direction=direction,
    )
    if runtime.dry_run:
        rules = load_rubric(config.rubric)
        attributes = list(AttributePool.load(config.pool).attributes)
        session = ModelSession(cache_dir=None, prices=runtime.prices)
        plan(config, rules, session, attributes)
        for line in session.plan_lines():
            click.echo(line)
        if needs_probe(config, session):
            calls = {p["role"]: p["calls"] for p in session.planned}
            for line in asyncio.run(_probe(config, rules, runtime, attributes, calls)):
                click.echo(line)
        return

    async def main() -> dict[str, object]:
        async with runtime.session(ledger=out_dir / LEDGER) as session:
            summary = await run_surf(config, session, out_dir, progress=True)
        for finding in summary.findings[:5]:
            click.echo(f"#{finding['rank']} score {finding['score']:g}  {_one_line(finding['query'], 100)}")
        return summary.as_json()

    with claim_dir(out_dir, "surf-run", resume=True):
        result = asyncio.run(main())
    click.echo(json.dumps(result))
    if result["status"] == "failed":
        click.echo(f"surf: failed: {result['stopped']}", err=True)
        sys.exit(1)


def _baseline(roles: dict[str, RoleConfig], direction: str | None) -> RoleSpec | None:
    """The baseline of a differential run, after the usage checks: a direction needs a baseline, a
    baseline needs a target, and comparing a model with itself finds nothing."""
    given = roles["baseline"]
    if not given.spec:
        if direction is not None:
            raise UserError(f"--direction {direction} compares two models but no baseline was given",
                            "pass --baseline PROVIDER/MODEL (the model the target is compared with), or drop --direction")
        return None
    if not roles["target"].spec:
        raise UserError("--baseline needs a target to compare it with",
                        "pass --target PROVIDER/MODEL (the new model) with --baseline (the old one)")
    baseline, target = _role(given), _role(roles["target"])
    if baseline == target:
        raise UserError("--baseline is the same model, endpoint and settings as --target",
                        "pass the other checkpoint as --baseline (or a different --baseline-revision / --baseline-base-url)")
    return baseline


async def _probe(config: SurfConfig, rubric: Rubric, runtime: RuntimeOptions, attributes: list[str],
                 calls: dict[str, int]) -> list[str]:
    """Probe calls for an unpriced --dry-run, uncached so the timing is the server's."""
    async with replace(runtime, cache_mode="off").session() as session:
        return await probe(config, rubric, session, attributes, calls)


def _one_line(text: str | None, width: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _print_status(run_dir: Path) -> None:
    """A run that failed or stopped says so above its findings, so a partial table is not read as final."""
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    status = manifest.get("status")
    if status and status != "complete":
        stopped = manifest.get("stopped")
        click.echo(f"status: {status}" + (f" ({stopped})" if stopped else ""), err=True)


@surf.command("top")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-n", "--limit", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON finding per line instead of text.")
def top(run_dir: Path, limit: int, as_json: bool) -> None:
    """The best findings of RUN_DIR, readable in a terminal."""
    findings = load_findings(run_dir)[:limit]
    _print_status(run_dir)
    if as_json:
        for finding in findings:
            click.echo(json.dumps(finding, ensure_ascii=False))
        return
    if not findings:
        click.echo("no findings (every candidate failed or scored nothing)")
    for finding in findings:
        flag = "VIOLATION" if finding["violation"] else "below threshold"
        click.echo(f"#{finding['rank']}  score {finding['score']:g}  {flag}  ({finding['id']})")
        for attribute in finding["attributes"]:
            click.echo(f"  attribute: {attribute}")
        click.echo(f"  query:    {_one_line(finding['query'], 300)}")
        click.echo(f"  response: {_one_line(finding['response'], 300)}")
        click.echo(f"  reason:   {_one_line(finding['reason'], 300)}")
        if finding.get("differential"):
            sides = finding["differential"]
            scores = ", ".join(f"{side} {sides[side]['score']:g}" if sides[side].get("asked", True)
                               else f"{side} not asked" for side in ("target", "baseline"))
            click.echo(f"  {sides['kind']}: {scores}")
            if sides["baseline"].get("response") is not None:
                click.echo(f"  baseline: {_one_line(sides['baseline']['response'], 300)}")
        click.echo("")
