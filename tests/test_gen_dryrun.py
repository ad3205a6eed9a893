"""--dry-run on a free endpoint measures tokens and time with a few marked probe calls."""

from pathlib import Path

from surfturf.surf.dryrun import PROBE_CALLS
from surfturf.testing.cli import run_main as invoke
from surfturf.testing.server import FakeLLMServer


def scripted(messages: list[dict], model: str) -> str:
    if model == "generator":
        return "<query>Could you tell me why my tea goes cold so fast in winter?</query>"
    if model == "judge":
        return "<reason>plain prose answer</reason><score>10</score>"
    return "Heat leaves faster when the air around the cup is colder. " * 5


def test_free_endpoint_dry_run_probes_each_role_and_projects_time(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with FakeLLMServer(scripted, latency_ms=40).in_thread() as server:
        roles = [flag for role in ("target", "generator", "judge")
                 for flag in (f"--{role}", f"openai-compatible/{role}", f"--{role}-base-url", server.base_url)]
        code, out, _ = invoke(monkeypatch, capsys, "surf", "run", "--rubric", "code", "--out", str(tmp_path / "run"),
                              *roles, "--runs", "2", "--iterations", "3", "--candidates", "10",
                              "--max-concurrency", "4", "--dry-run")
        assert code == 0
        assert server.requests == 3 * PROBE_CALLS
    probes = {line.split()[1]: line for line in out.splitlines() if line.startswith("probe ")}
    assert set(probes) == {"generator", "target", "judge"}
    assert all("tokens/call" in line and "s/call" in line and f"{PROBE_CALLS} calls" in line for line in probes.values())
    target_tokens = int(probes["target"].split("~")[1].split()[0])
    assert target_tokens > int(probes["judge"].split("~")[1].split()[0])
    assert "projected time at --max-concurrency 4" in out
    assert not (tmp_path / "run").exists() and not (tmp_path / ".surfturf-cache").exists()


def test_priced_endpoints_are_not_probed(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke(monkeypatch, capsys, "surf", "run", "--rubric", "code", "--out", str(tmp_path / "run"),
                          "--target", "openai/gpt-4.1-mini", "--generator", "openai/gpt-4.1-mini",
                          "--judge", "openai/gpt-4.1", "--dry-run")
    assert code == 0 and "probe" not in out and "projected time" not in out
