"""Output directories are owned and locked: a command refuses another kind's folder, a file, a path
under a file, and a folder another process holds, each with one line and nothing touched."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from surfturf.errors import UserError
from surfturf.io.ownership import OWNER_FILE, claim_dir, owner_of
from surfturf.testing.cli import run_main as invoke

TESTS = Path(__file__).parent


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_new_folder_is_created_owned_and_reopened_by_its_kind(tmp_path: Path) -> None:
    out = tmp_path / "a" / "run"
    with claim_dir(out, "surf-run", resume=True) as lock:
        assert lock.path == out and owner_of(out) == "surf-run"
        assert (out / ".lock").read_text().strip().isdigit()
    (out / "candidates.jsonl").write_text("{}\n")
    with claim_dir(out, "surf-run", resume=True):
        pass
    assert json.loads((out / OWNER_FILE).read_text()) == {"kind": "surf-run"}


def test_another_kinds_folder_is_refused_untouched(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with claim_dir(out, "surf-run", resume=True):
        (out / "manifest.json").write_text('{"command": "surf run"}\n')
    before = snapshot(out)
    for kind in ("world", "steer", "robust", "traces", "index"):
        with pytest.raises(UserError, match="holds the output of `surf-run`"):
            claim_dir(out, kind, resume=False)
    assert snapshot(out) == before


def test_legacy_manifest_and_foreign_files(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    (index / "manifest.json").write_text('{"command": "index build", "counts": {}}\n')
    assert owner_of(index) == "index"
    claim_dir(index, "index", resume=True).release()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="files surfturf did not write"):
        claim_dir(foreign, "world", resume=False)
    assert snapshot(foreign) == {"notes.txt": b"keep me"}
    empty = tmp_path / "empty"
    empty.mkdir()
    claim_dir(empty, "world", resume=False).release()


def test_file_and_under_a_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("x")
    with pytest.raises(UserError, match="is a file"):
        claim_dir(path, "surf-run", resume=True)
    with pytest.raises(UserError, match="which is a file"):
        claim_dir(path / "sub" / "run", "surf-run", resume=True)
    assert path.read_text() == "x" and list(tmp_path.iterdir()) == [path]


HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from surfturf.io.ownership import claim_dir
    lock = claim_dir(Path(sys.argv[1]), "surf-run", resume=True)
    print("held", flush=True)
    time.sleep(60)
""")


def test_second_process_gets_the_holders_pid(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "run"
    env = {"PYTHONPATH": f"{Path(__file__).parents[1] / 'src'}"}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match=f"in use by another surfturf process \\(PID {holder.pid}\\)"):
            claim_dir(out, "surf-run", resume=True)
        code, out_text, err = invoke(monkeypatch, capsys, "surf", "run", "--rubric", "code", "--out", str(out),
                                     "--target", "openai-compatible/t", "--target-base-url", "http://127.0.0.1:9/v1",
                                     "--generator", "openai-compatible/g", "--generator-base-url",
                                     "http://127.0.0.1:9/v1", "--judge", "openai-compatible/j",
                                     "--judge-base-url", "http://127.0.0.1:9/v1", "--cache", "off")
        assert code == 2 and err.count("\n") == 1 and f"PID {holder.pid}" in err and out_text == ""
    finally:
        holder.kill()
        holder.wait()
    claim_dir(out, "surf-run", resume=True).release()  # the lock dies with its holder


def test_world_build_refuses_a_surf_run_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "run"
    with claim_dir(out, "surf-run", resume=True):
        (out / "manifest.json").write_text('{"command": "surf run", "config": {}}\n')
    before = snapshot(out)
    for args in (["world", "build", "--out", str(out)], ["world", "train", "--out", str(out)]):
        code, _, err = invoke(monkeypatch, capsys, *args)
        assert code == 2 and err.startswith("error: ") and "; fix: " in err and err.count("\n") == 1
    assert snapshot(out) == before


@pytest.mark.parametrize(("command", "kind"), [("surfturf turf trace RUN --index I", "traces"),
                                               ("turf trace", "traces"), ("surfturf steer --out S", "steer"),
                                               ("world train", "world-target"), ("surfturf robust RUN", "robust")])
def test_folders_from_before_owner_files_are_known_by_their_command(tmp_path: Path, command: str, kind: str) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"command": command}))
    assert owner_of(tmp_path) == kind


def test_world_build_reruns_into_its_own_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "w"
    for _ in range(2):
        code, _, err = invoke(monkeypatch, capsys, "world", "build", "--out", str(out))
        assert code == 0, err
    assert owner_of(out) == "world"
