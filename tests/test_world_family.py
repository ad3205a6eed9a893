"""No code outside the world specs knows a world: every table, chunk, planted name and cue value of
every shipped spec is absent from the Python sources (quoted), so a new world needs only YAML."""

from __future__ import annotations

import re
from pathlib import Path

from surfturf.rubrics.loader import builtin_names
from surfturf.world import load_world
from surfturf.world.spec import shipped_worlds

SRC = Path(__file__).resolve().parents[1] / "src" / "surfturf"
# A spec's schema keys name sections, not a world's content.
SCHEMA = {"identity", "tables", "frames", "styles", "chunks", "planted", "attributes", "variants", "rubrics", "facts"}


def _world_strings() -> set[str]:
    found: set[str] = set()
    for name in shipped_worlds():
        spec = load_world(name).spec
        found |= set(spec["tables"]) | set(spec["frames"]) | set(spec["styles"])
        found |= {c["name"] for c in spec["chunks"]} | {p["name"] for p in spec["planted"]}
        found |= {str(v) for v in (spec.get("identity") or {}).values()}
        found |= {str(v) for rows in spec["tables"].values() for row in rows for v in row.values() if len(str(v)) >= 8}
    return {s for s in found - SCHEMA - set(builtin_names()) if len(s) > 4}  # rubric names belong to the rubric library


def test_no_source_file_names_a_shipped_worlds_tables_or_cues():
    strings = _world_strings()
    pattern = re.compile("|".join(rf"[\"']{re.escape(s)}[\"']" for s in sorted(strings, key=len, reverse=True)))
    leaks = {}
    for path in sorted((SRC / "world").rglob("*.py")) + [SRC / "cli" / "world.py", SRC / "cli" / "demo.py"]:
        hits = sorted(set(pattern.findall(path.read_text(encoding="utf-8"))))
        if hits:
            leaks[str(path.relative_to(SRC))] = hits
    assert not leaks, leaks


def _languages(spec: dict) -> set[str]:
    return {str(v["language"]) for v in (spec.get("variants") or {}).values() if v.get("language")}


def test_the_family_has_four_worlds_unlike_each_other_and_unlike_the_test_worlds():
    """Each world beyond the default shares no table, planted behaviour, rubric or language with any
    other shipped or test world, and plants at least four behaviours."""
    worlds = {name: load_world(name).spec for name in shipped_worlds()}
    assert len(worlds) >= 4 and "default" in worlds
    tests = {f"tests/{p.stem}": load_world(str(p)).spec for p in (Path(__file__).parent / "worlds").glob("*.yaml")}
    for name, spec in worlds.items():
        assert len(spec["planted"]) >= 4, name
        if name == "default":
            continue
        for other, theirs in {**worlds, **tests}.items():
            if other == name:
                continue
            assert not set(spec["tables"]) & set(theirs["tables"]), (name, other)
            assert not {p["name"] for p in spec["planted"]} & {p["name"] for p in theirs["planted"]}, (name, other)
            assert not {p["rubric"] for p in spec["planted"]} & {p["rubric"] for p in theirs["planted"]}, (name, other)
            assert not _languages(spec) & _languages(theirs), (name, other)

def test_world_list_shows_every_shipped_world():
    from click.testing import CliRunner

    from surfturf.cli.main import cli

    outcome = CliRunner().invoke(cli, ["world", "list"])
    assert outcome.exit_code == 0, outcome.output
    listed = {line.split()[0] for line in outcome.output.splitlines() if line.strip()}
    assert listed == set(shipped_worlds())
