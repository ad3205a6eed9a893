"""Bad input, tried as a user would: each case is one line naming the problem and the fix, exit 2,
and nothing already in the workspace changed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from surfturf.testing.cli import run_main as invoke
from surfturf.testing.server import FakeLLMServer
from surfturf.testing.surf import ROLE_FLAGS as MODELS
from surfturf.testing.surf import code_world

SFT_MIX = Path("/work/shared/data/sft-mix")


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(code_world).in_thread() as running:
        yield running


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, server: FakeLLMServer) -> dict[str, Path]:
    """A workspace with a finished SURF run and a small index, built once."""
    root = tmp_path_factory.mktemp("workspace")
    (root / "pool.txt").write_text("The query is about rivers.\nThe query is about birds.\n")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(root)  # relative paths, so a copy of the workspace resumes the same run
        capsys = _Quiet()
        code, _, err = invoke(monkeypatch, capsys, *surf_run(root, server))
        assert code == 0, err
        if SFT_MIX.exists():
            code, _, err = invoke(monkeypatch, capsys, "index", "build", str(SFT_MIX), "--limit", "20", "-o",
                                  str(root / "index"), "--embedder", "hash/32", "--shard-rows", "100", "--cache", "off")
            assert code == 0, err
    return {"root": root}


class _Quiet:
    """capsys for the module fixture: the CLI's output is not needed there."""

    def readouterr(self):  # noqa: ANN201
        class Captured:
            out = err = ""
        return Captured()


def surf_run(root: Path, server: FakeLLMServer, out: str = "run", *extra: str) -> list[str]:
    url = server.base_url
    return ["surf", "run", "--rubric", "code", "--pool", "pool.txt", "--out", out, *MODELS,
            "--target-base-url", url, "--generator-base-url", url, "--judge-base-url", url, "--runs", "1",
            "--iterations", "1", "--candidates", "3", "--max-k", "1", "--cache", "off", *extra]


def corrupt_candidates(root: Path) -> None:
    shutil.copytree(root / "run", root / "run2")
    (root / "run2" / ".lock").unlink()
    lines = (root / "run2" / "candidates.jsonl").read_text().splitlines(keepends=True)
    (root / "run2" / "candidates.jsonl").write_text(lines[0] + "{not json\n" + "".join(lines[1:]))


def edited_index(change: str):  # noqa: ANN201
    def setup(root: Path) -> None:
        if not (root / "index").exists():
            pytest.skip("needs the sft-mix sample corpus")
        shutil.copytree(root / "index", root / "edited")
        manifest = json.loads((root / "edited" / "manifest.json").read_text())
        if change == "drop models":
            del manifest["models"]
        else:
            manifest["embeddings"]["dim"] = 7
        (root / "edited" / "manifest.json").write_text(json.dumps(manifest))
    return setup


def write(name: str, data: bytes):  # noqa: ANN201
    return lambda root: (root / name).write_bytes(data)


def broken_world(old: str, new: str) -> bytes:
    """The default world spec with one edit (a world-spec error the loader must name)."""
    from surfturf.world.spec import shipped_worlds

    text = shipped_worlds()["default"]
    assert old in text
    return text.replace(old, new, 1).encode("utf-8")


def nothing(root: Path) -> None:
    return None


# (id, setup(root), args(root, server), words the line must hold)
CASES = [
    ("binary rubric", write("bin.yaml", b"\x00\xff\xfe\x01"),
     lambda r, s: surf_run(r, s, "o", "--rubric", str(r / "bin.yaml")), "not UTF-8"),
    ("empty rubric", write("empty.yaml", b""), lambda r, s: surf_run(r, s, "o", "--rubric", str(r / "empty.yaml")),
     "rubric"),
    ("missing rubric", nothing, lambda r, s: surf_run(r, s, "o", "--rubric", str(r / "no.yaml")), "cannot read"),
    ("binary system prompt", write("bin.txt", b"\xff\xfe"),
     lambda r, s: surf_run(r, s, "o", "--system-prompt", str(r / "bin.txt")), "not UTF-8"),
    ("empty system prompt", write("blank.txt", b"  \n"),
     lambda r, s: surf_run(r, s, "o", "--system-prompt", str(r / "blank.txt")), "empty"),
    ("missing pool", nothing, lambda r, s: surf_run(r, s, "o", "--pool", str(r / "no.txt")), "does not exist"),
    ("out is a file", write("afile", b"x"), lambda r, s: surf_run(r, s, "afile"), "is a file"),
    ("out under a file", write("afile", b"x"), lambda r, s: surf_run(r, s, "afile/run"), "which is a file"),
    ("out is another kind", nothing, lambda r, s: ["world", "build", "--out", str(r / "run")], "surf-run"),
    ("steer into a run", write("prompts.txt", b"hello\n"),
     lambda r, s: ["steer", "--prompts", str(r / "prompts.txt"), "--transform", "formal", "--measure", "length", "--out", str(r / "run"),
                   "--target", "openai-compatible/target", "--target-base-url", s.base_url], "surf-run"),
    ("base url not a url", nothing, lambda r, s: surf_run(r, s, "o", "--target-base-url", "notaurl"), "notaurl"),
    ("base url without host", nothing, lambda r, s: surf_run(r, s, "o", "--judge-base-url", "http://"), "host"),
    ("base url bad port", nothing, lambda r, s: surf_run(r, s, "o", "--generator-base-url", "http://h:x/v1"), "URL"),
    ("base url ftp", nothing, lambda r, s: surf_run(r, s, "o", "--target-base-url", "ftp://h/v1"), "http(s)"),
    ("corrupt candidates line", corrupt_candidates, lambda r, s: surf_run(r, s, "run2"), "line 2"),
    ("different settings on resume", nothing, lambda r, s: surf_run(r, s, "run", "--seed", "9"), "different"),
    ("unknown option", nothing, lambda r, s: ["surf", "run", "--bogus"], "--bogus"),
    ("unknown command", nothing, lambda r, s: ["nosuch"], "nosuch"),
    ("not an integer", nothing, lambda r, s: surf_run(r, s, "o", "--runs", "abc"), "--runs"),
    ("missing argument", nothing, lambda r, s: ["surf", "top"], "RUN_DIR"),
    ("top of a missing run", nothing, lambda r, s: ["surf", "top", str(r / "nope")], "nope"),
    ("top of a file", write("afile", b"x"), lambda r, s: ["surf", "top", str(r / "afile")], "afile"),
    ("unknown rubric name", nothing, lambda r, s: ["rubrics", "show", "nosuch"], "nosuch"),
    ("missing env file", nothing, lambda r, s: surf_run(r, s, "o", "--env-file", str(r / "no.env")), "env file"),
    ("missing corpus", nothing, lambda r, s: ["index", "build", str(r / "no.jsonl"), "-o", str(r / "i")], "corpus"),
    ("index into a file", write("c.jsonl", b'{"messages": []}\n'),
     lambda r, s: ["index", "build", str(r / "c.jsonl"), "-o", str(r / "c.jsonl")], "is a file"),
    ("index info of a run", nothing, lambda r, s: ["index", "info", str(r / "run")], "index"),
    ("index manifest lacks models", edited_index("drop models"), lambda r, s: ["index", "info", str(r / "edited")],
     "models.extractor"),
    ("index manifest dim edited", edited_index("dim"),
     lambda r, s: ["turf", "trace", "--index", str(r / "edited"), "--query", "q", "--response", "r", "--rubric",
                   "code", "--judge", "openai-compatible/judge", "--judge-base-url", s.base_url], "dim"),
    ("binary world spec", write("w.yaml", b"\xff\x00"), lambda r, s: ["world", "build", "--world", str(r / "w.yaml"),
                                                                     "--out", str(r / "w")], "not UTF-8"),
    ("world spec form names an unknown style", write("w.yaml", broken_world("styles: [code], band: [80, 95]", "styles: [cdoe], band: [80, 95]")),
     lambda r, s: ["world", "build", "--world", str(r / "w.yaml"), "--out", str(r / "w")], "unknown style 'cdoe'"),
    ("world spec form with a bad band", write("w.yaml", broken_world("band: [85, 95]", "band: [95, 85]")),
     lambda r, s: ["world", "train", "--world", str(r / "w.yaml"), "--out", str(r / "w")], "band [95, 85]"),
    ("world spec warrant names an unknown table", write("w.yaml", broken_world("warranted: {table: [inventions_false]}",
                                                                               "warranted: {table: [inventions_fake]}")),
     lambda r, s: ["demo", "--world", str(r / "w.yaml"), "--out", str(r / "d")], "unknown table 'inventions_fake'"),
    ("report of a missing run", nothing, lambda r, s: ["report", str(r / "nope")], "nope"),
]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".lock"}


@pytest.mark.parametrize(("setup", "args", "words"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_exit_2_nothing_lost(setup, args, words, built, server, tmp_path: Path,
                                                   monkeypatch, capsys) -> None:
    root = tmp_path / "ws"
    shutil.copytree(built["root"], root)
    setup(root)
    monkeypatch.chdir(root)
    before = snapshot(root)
    code, out, err = invoke(monkeypatch, capsys, *args(root, server))
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and "; fix: " in err and "Traceback" not in err, err
    assert words in err, err
    assert snapshot(root) == before
