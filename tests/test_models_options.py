"""The shared click decorators: flags and environment defaults reach RuntimeOptions and RoleConfig."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from surfturf.cli.options import RuntimeOptions, role_options, runtime_options
from surfturf.errors import UserError
from surfturf.models import ModelSession
from surfturf.surf.generation import RoleConfig

seen: dict[str, Any] = {}


@click.command()
@runtime_options
@role_options("target", "judge", defaults={"judge": "hash/64"})
def probe(runtime: RuntimeOptions, roles: dict[str, RoleConfig]) -> None:
    seen["runtime"], seen["roles"] = runtime, roles


def invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[RuntimeOptions, dict[str, RoleConfig]]:
    result = CliRunner().invoke(probe, args, env=env or {}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return seen["runtime"], seen["roles"]


def test_flags_and_environment_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runtime, roles = invoke(
        ["--max-calls", "7", "--max-usd", "1.5", "--cache", "read-only", "--max-concurrency", "3", "--dry-run",
         "--judge-base-url", "http://127.0.0.1:1/v1"],
        env={"SURFTURF_TARGET": "world/target", "SURFTURF_TARGET_KEY_ENV": "MY_KEY"},
    )
    assert runtime.budget.max_calls == 7 and runtime.budget.max_usd == 1.5 and runtime.dry_run
    assert runtime.cache_mode == "read-only" and runtime.max_concurrency == 3 and runtime.env_file is None
    assert roles["target"] == RoleConfig("target", "world/target", None, "MY_KEY")
    assert roles["judge"] == RoleConfig("judge", "hash/64", "http://127.0.0.1:1/v1", None)
    session = runtime.session()
    assert isinstance(session, ModelSession) and session.max_concurrency == 3
    assert not (tmp_path / ".surfturf-cache").exists()  # nothing is created before a call


def test_env_file_is_picked_up_and_missing_role_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SOME_KEY=abc\n")
    monkeypatch.delenv("SURFTURF_TARGET", raising=False)
    runtime, roles = invoke([])
    assert runtime.env_file == Path(".env") and runtime.session().env == {"SOME_KEY": "abc"}
    with pytest.raises(UserError, match="no model given for role target"):
        roles["target"].require()


def test_bad_flag_values_are_rejected() -> None:
    result = CliRunner().invoke(probe, ["--max-concurrency", "0"])
    assert result.exit_code == 2
    result = CliRunner().invoke(probe, ["--cache", "sometimes"])
    assert result.exit_code == 2


def test_world_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURFTURF_WORLD_BASE_URL", "http://127.0.0.1:9999/v1")
    model = ModelSession().model("judge", "world/judge")
    assert model.endpoint.base_url == "http://127.0.0.1:9999/v1" and model.endpoint.api_key is None
