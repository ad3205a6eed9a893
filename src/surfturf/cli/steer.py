"""`surfturf steer`: the steered score of one transform, for one or several targets or checkpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from surfturf.cli.options import RuntimeOptions, pop_settings, role_options, runtime_options, setting_options
from surfturf.cli.outcome import exit_if_failed
from surfturf.errors import UserError
from surfturf.models import GenerateConfig
from surfturf.steer.steer_run import SteerRequest, steer_run
from surfturf.surf.context import context_options
from surfturf.surf.generation import RoleConfig
from surfturf.surf.progress import counter


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
    target_roles = _target_roles(targets, target_base_url, target_key_env, *pop_settings(target_settings, "target"))
    if len({label for label, _ in target_roles}) != len(target_roles):
        raise UserError("two --target values share a label", "name checkpoints apart: --target LABEL=SPEC")
    request = SteerRequest(prompts_path, transform_spec, measure_spec, target_roles, roles["perturber"], roles["judge"],
                           samples=samples, limit=limit, seed=seed, system_prompt=system_prompt,
                           icl_examples=icl_examples, icl_file=icl_file)
    runtime.claim(out, "steer")
    outcome = steer_run(request, runtime.session, out, runtime=runtime.config(), dry_run=runtime.dry_run,
                        progress=counter)
    for line in outcome.plan:
        click.echo(line)
    if outcome.result is None:
        return
    _print_table(outcome.result)
    click.echo(json.dumps(outcome.result))
    exit_if_failed("steer", outcome.stopped)


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
