"""`surfturf steer`: the steered score of one transform, for one or several targets or checkpoints."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from surfturf.cli.options import (
    RoleConfig,
    RuntimeOptions,
    pop_settings,
    role_options,
    runtime_options,
    setting_options,
)
from surfturf.cli.outcome import exit_if_failed
from surfturf.errors import UserError
from surfturf.io.files import write_json_atomic, write_jsonl_atomic
from surfturf.io.manifest import file_input, manifest, run_status, run_usage
from surfturf.io.ownership import claim_dir
from surfturf.models import GenerateConfig, ModelSession
from surfturf.steer.failure import steer_failure
from surfturf.steer.measure import Measure, panel_judge, resolve_measure
from surfturf.steer.steer import PromptPair, read_prompts, steer_targets
from surfturf.steer.transforms import Transform, resolve_transform
from surfturf.surf.context import build_prefix, context_options
from surfturf.surf.progress import counter

TOKENS_IN, TOKENS_OUT = 200, 300  # rough per-call sizes for --dry-run estimates


def _target_roles(specs: tuple[str, ...], base_url: str | None, key_env: str | None, settings: GenerateConfig,
                  revision: str | None) -> list[tuple[str, RoleConfig]]:
    """(label, role) per --target, all with the --target-* settings; `LABEL=SPEC` names a checkpoint,
    `SPEC@URL` gives it its own server."""
    roles = []
    for item in specs:
        label, _, spec = item.partition("=") if "=" in item.split("/")[0] else (item, "", item)
        spec, _, url = spec.partition("@")
        roles.append((label, RoleConfig("target", spec, url or base_url, key_env, settings, revision)))
    return roles


@click.command()
@click.option("--prompts", "prompts_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Out-of-domain prompts: text (one per line) or JSONL (query/prompt/messages).")
@click.option("--transform", "transform_spec", required=True,
              help="latex | extraction | formal | two-part | translate[:LANGUAGE] | template:FILE")
@click.option("--measure", "measure_spec", required=True,
              help="rubric:NAME|PATH (judge) | regex:PATTERN | length | length:<N | length:>N")
@click.option("--target", "targets", multiple=True, required=True, metavar="[LABEL=]SPEC[@URL]",
              help="A target; repeat for several checkpoints or sizes (one table row each).")
@click.option("--target-base-url", default=None, envvar="SURFTURF_TARGET_BASE_URL", metavar="URL",
              help="Base URL for targets without their own @URL.")
@click.option("--target-key-env", default=None, envvar="SURFTURF_TARGET_KEY_ENV", metavar="VAR",
              help="Environment variable holding the targets' API key.")
@setting_options("target")
@click.option("--samples", type=click.IntRange(min=1), default=1, show_default=True,
              help="Target samples per prompt and version (sample_index 0..S-1).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Use only the first N prompts.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder: steer.json, pairs.jsonl, manifest.json.")
@context_options
@role_options("perturber", "judge")
@runtime_options
def steer(
    prompts_path: Path, transform_spec: str, measure_spec: str, targets: tuple[str, ...], target_base_url: str | None,
    target_key_env: str | None, samples: int, limit: int | None, seed: int, out: Path,
    system_prompt: Path | None, icl_examples: int, icl_file: Path | None,
    roles: dict[str, RoleConfig], runtime: RuntimeOptions, **target_settings: Any,
) -> None:
    """Apply a non-semantic transform to a prompt set, run every target on both versions, and report
    the behaviour's rate on each, the difference, a paired 95% interval and a p-value (steer.json)."""
    prompts = read_prompts(prompts_path, limit)
    transform = resolve_transform(transform_spec)
    measure = resolve_measure(measure_spec)
    prefix, context = build_prefix(system_prompt, icl_examples, icl_file)
    target_roles = _target_roles(targets, target_base_url, target_key_env, *pop_settings(target_settings, "target"))
    if len({label for label, _ in target_roles}) != len(target_roles):
        raise UserError("two --target values share a label", "name checkpoints apart: --target LABEL=SPEC")

    if not runtime.dry_run:
        click.get_current_context().with_resource(claim_dir(out, "steer", resume=False))
    session = runtime.session(ledger=None if runtime.dry_run else out / "spend.jsonl")
    models = [(label, role.model(session)) for label, role in target_roles]  # a bad spec fails here, dry run too
    perturber = roles["perturber"].model(session) if transform.needs_model else None
    judge = panel_judge([roles["judge"].model(session)]) if measure.needs_judge else None
    if runtime.dry_run:
        _print_plan(session, roles, target_roles, transform, measure, len(prompts), samples)
        return

    async def go() -> tuple[list[PromptPair], list[dict[str, Any]], list[dict[str, Any]]]:
        try:
            return await steer_targets(prompts, transform, perturber, models, measure, judge, prefix,
                                       samples=samples, seed=seed, progress=counter)
        finally:
            await session.aclose()

    pairs, rows, records = asyncio.run(go())
    status, stopped = run_status(session)
    failure = steer_failure(pairs, records, transform.needs_model)
    if failure and stopped is None:
        status, stopped = "failed", failure
    result = {"transform": transform.name, "measure": measure.spec, "targets": rows}
    write_json_atomic(out / "steer.json", result)
    write_jsonl_atomic(out / "pairs.jsonl", records)
    inputs = [file_input(path, kind) for path, kind in
              ((prompts_path, "prompts"), (icl_file, "icl examples"), (system_prompt, "system prompt")) if path]
    write_json_atomic(out / "manifest.json", manifest(
        config={"transform": transform.name, "measure": measure.spec, "samples": samples,
                "settings": {"targets": {label: role.record() for label, role in target_roles},
                             "perturber": roles["perturber"].record(), "judge": roles["judge"].record()},
                "limit": limit, "context": context, "runtime": runtime.config()},
        models={"targets": {label: role.spec for label, role in target_roles},
                "perturber": roles["perturber"].spec if transform.needs_model else None,
                "judge": roles["judge"].spec if measure.needs_judge else None},
        inputs=inputs,
        counts={"prompts": len(prompts), "changed": sum(p.changed for p in pairs),
                "transform_errors": sum(p.transformed is None for p in pairs), "targets": len(rows)},
        usage=run_usage(session), seeds={"bootstrap": seed, "sample_index": f"0..{samples - 1}"}, status=status,
    ) | ({"stopped": stopped} if stopped else {}))
    _print_table(result)
    click.echo(json.dumps(result))
    exit_if_failed("steer", stopped)


def _print_plan(session: ModelSession, roles: dict[str, RoleConfig], target_roles: list[tuple[str, RoleConfig]],
                transform: Transform, measure: Measure, n_prompts: int, samples: int) -> None:
    """--dry-run: the planned calls per role and their estimated cost, without calling any model."""
    calls = 2 * n_prompts * samples
    if transform.needs_model:
        session.estimate("perturber", roles["perturber"].require(), n_prompts, TOKENS_IN, TOKENS_IN)
    for _, role in target_roles:
        session.estimate("target", role.require(), calls, TOKENS_IN, TOKENS_OUT)
        if measure.needs_judge:
            session.estimate("judge", roles["judge"].require(), calls, TOKENS_IN * 4, 100)
    for line in session.plan_lines():
        click.echo(line)
    asyncio.run(session.aclose())


def _print_table(result: dict[str, Any]) -> None:
    """The paper's across-checkpoints table: one row per target."""
    click.echo(f"transform {result['transform']}, measure {result['measure']}")
    click.echo(f"{'target':<24} {'n':>5} {'original':>9} {'transformed':>12} {'difference':>11} {'95% CI':>18} {'p':>9}")
    for row in result["targets"]:
        if not row["n"]:
            click.echo(f"{row['target']:<24} {0:>5}  no measured pairs ({row['n_errors']} errors)")
            continue
        interval = f"[{row['low']:+.3f}, {row['high']:+.3f}]"
        click.echo(f"{row['target']:<24} {row['n']:>5} {row['rate_original']:>9.3f} {row['rate_transformed']:>12.3f} "
                   f"{row['difference']:>+11.3f} {interval:>18} {row['p_value']:>9.2g}")
