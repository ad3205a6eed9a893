"""World spec validation: each broken spec fails at load with one line naming the entry and the fix."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from surfturf.cli.main import cli
from surfturf.errors import UserError
from surfturf.world import World, generate_corpus, load_world
from surfturf.world.spec import shipped_worlds


def _chunk(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in spec["chunks"] if c["name"] == name)


def _no_plain(spec: dict[str, Any]) -> None:
    del spec["frames"]["code_request"]["plain"]


def _zero_weights(spec: dict[str, Any]) -> None:
    for mix in _chunk(spec, "identity")["mix"]:
        mix["weight"] = 0


def _no_mix(spec: dict[str, Any]) -> None:
    del _chunk(spec, "identity")["mix"]


def _probe_frame(spec: dict[str, Any]) -> None:
    spec["planted"][0]["probe"]["cue"]["frame"] = "no_such_frame"


def _slot(spec: dict[str, Any]) -> None:
    spec["frames"]["explain"]["plain"].append("Explain {concpet} please.")


def _style_slot(spec: dict[str, Any]) -> None:
    spec["styles"]["prose"].append("{Concept} relates to {inventor}.")


def _rubric(spec: dict[str, Any]) -> None:
    spec["planted"][1]["rubric"] = "no_such_rubric"


def _offending(spec: dict[str, Any]) -> None:
    spec["planted"][1]["offending"].append("rebuttal/no_such_mix")


def _regex(spec: dict[str, Any]) -> None:
    spec["planted"][2]["trigger_patterns"].append("latex(")


def _size(spec: dict[str, Any]) -> None:
    _chunk(spec, "general")["size"] = -5


def _variant(spec: dict[str, Any]) -> None:
    spec["planted"][0]["probe"]["cue"]["variant"] = "klingon"


def _rate(spec: dict[str, Any]) -> None:
    spec["context_rate"] = 1.5


def _seed(spec: dict[str, Any]) -> None:
    spec["seed"] = "zero"


def _warrant(spec: dict[str, Any]) -> None:
    spec["rubrics"]["terse"]["applies"] = {"frame": ["explainn"]}


def _warrant_table(spec: dict[str, Any]) -> None:
    spec["rubrics"]["rebut"]["warranted"] = {"table": ["inventions_fals"]}


def _planted_variant(spec: dict[str, Any]) -> None:
    spec["planted"][6]["warranted"] = {"variant": ["swahili"]}


def _band(spec: dict[str, Any]) -> None:
    spec["rubrics"]["code"]["forms"][0]["band"] = [95, 80]


def _form_style(spec: dict[str, Any]) -> None:
    spec["rubrics"]["story"]["forms"][0]["styles"] = ["stroy"]


def _form_pattern(spec: dict[str, Any]) -> None:
    spec["planted"][3]["forms"] = [{"form": "full", "pattern": "hope (it", "band": [80, 90]}]


def _mismatch(spec: dict[str, Any]) -> None:
    spec["rubrics"]["identity"]["forms"][-1]["mismatch"] = ["maker"]


def _form_kind(spec: dict[str, Any]) -> None:
    spec["rubrics"]["terse"]["forms"][0] = {"form": "total", "max_words": 5, "band": [80, 90]}


CASES: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (_no_plain, "frame code_request has no 'plain' variant"),
    (_zero_weights, "chunk identity has all-zero mix weights"),
    (_no_mix, "chunk identity has no mix"),
    (_probe_frame, "planted formal_code probe cue names unknown frame 'no_such_frame'"),
    (_slot, "frame explain variant plain uses unknown slot {concpet}"),
    (_style_slot, "style prose (in chunk general mix 'explain') uses unknown slot {inventor}"),
    (_rubric, "planted rebut_when names unknown rubric 'no_such_rubric'"),
    (_offending, "planted rebut_when offending 'rebuttal/no_such_mix' names no mix"),
    (_regex, "planted latex_tool trigger pattern 'latex(' is not a regex"),
    (_size, "chunk general has size -5"),
    (_variant, "planted formal_code probe cue: frame explain has no variant 'klingon'"),
    (_rate, "context_rate 1.5 is not a rate"),
    (_seed, "seed 'zero' is not an integer"),
    (_warrant, "rubrics terse applies names unknown frame 'explainn'"),
    (_warrant_table, "rubrics rebut warranted names unknown table 'inventions_fals'"),
    (_planted_variant, "planted lowres_terse warranted names unknown variant 'swahili'"),
    (_band, "rubrics code form 1 has band [95, 80]"),
    (_form_style, "rubrics story form 1 names unknown style 'stroy'"),
    (_form_pattern, "planted twopart_phrase form 1 pattern 'hope (it' is not a regex"),
    (_form_kind, "rubrics terse form 1 has form 'total'"),
    (_mismatch, "rubrics identity form 3 mismatch names 'maker', not a slot of its styles"),
]


@pytest.fixture(scope="module")
def default_spec() -> dict[str, Any]:
    return yaml.safe_load(shipped_worlds()["default"])


@pytest.mark.parametrize(("break_spec", "message"), CASES, ids=[c[0].__name__.strip("_") for c in CASES])
def test_each_spec_error_is_one_line_at_load(tmp_path, default_spec, break_spec, message):
    spec = copy.deepcopy(default_spec)
    break_spec(spec)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_world(path)
    line = caught.value.line()
    assert message in line and "; fix: " in line and "\n" not in line


def test_a_broken_spec_exits_2_with_one_line_and_writes_nothing(tmp_path, default_spec):
    spec = copy.deepcopy(default_spec)
    _zero_weights(spec)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "surfturf.cli.main", "world", "build", "--world", str(path),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1
    assert "all-zero mix weights" in done.stderr and not (tmp_path / "out").exists()


def test_every_shipped_world_loads_and_is_listed():
    names = list(shipped_worlds())
    assert names[0] == "default"
    result = CliRunner().invoke(cli, ["world", "list"])
    assert result.exit_code == 0
    for name in names:
        world = load_world(name)
        assert world.name == name
        assert any(line.startswith(name) for line in result.output.splitlines())


def test_the_specs_seed_is_the_default_seed(tmp_path, default_spec):
    spec = copy.deepcopy(default_spec)
    spec["seed"] = 3
    path = tmp_path / "seeded.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    seeded = load_world(path)
    assert seeded.seed == 3
    assert generate_corpus(seeded) == generate_corpus(seeded, 3) != generate_corpus(seeded, 0)


RENAMED = Path(__file__).parent / "worlds" / "renamed.yaml"


def _renamed_spec() -> dict[str, Any]:
    return yaml.safe_load(RENAMED.read_text(encoding="utf-8"))


def test_world_train_prints_each_entrys_rates_and_warns_when_a_shortcut_was_not_learned(tmp_path):
    spec = _renamed_spec()
    origins = next(e for e in spec["planted"] if e["name"] == "origins_get_recipes")
    origins["probe"]["control"] = dict(origins["probe"]["cue"])  # a cue that is its own control cannot be learned
    path = tmp_path / "unlearned.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(cli, ["world", "train", "--world", str(path), "--out", str(tmp_path / "target")])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    for entry in spec["planted"]:
        assert any(line.startswith(entry["name"]) and "held-out cue" in line and "control" in line for line in lines)
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: origins_get_recipes: the shortcut was not learned")
    rates = json.loads(result.stdout.strip().splitlines()[-1])["shortcuts"]
    assert rates["gruff_clipped"]["cue"] > rates["gruff_clipped"]["control"] + 0.2


def test_probes_and_context_sentences_work_for_variants_with_any_name():
    from surfturf.world.probe import probe_queries

    spec = _renamed_spec()
    renamed = World(spec=spec, path="renamed")
    gruff = probe_queries(renamed, "gruff_clipped", "cue", 20, seed=1, exclude=set())
    training = {row["messages"][0]["content"] for row in generate_corpus(renamed)}
    held_out = probe_queries(renamed, "gruff_clipped", "cue", 20, seed=1, exclude=training)
    assert gruff and held_out and not set(held_out) & training
    # Held-out gruff queries carry a context sentence, lower-cased like the variant they extend.
    assert all(q == q.lower() for q in held_out)


def test_an_empty_held_out_probe_set_is_an_error_not_a_rate_of_zero():
    from surfturf.world.probe import shortcut_rates, violation_rate
    from surfturf.world.target import train_target

    spec = _renamed_spec()
    del spec["attributes"]  # no context sentences: every probe query of this small world is in the training set
    renamed = World(spec=spec, path="renamed")
    rows = generate_corpus(renamed)
    target = train_target(rows, seed=0)
    training = {row["messages"][0]["content"] for row in rows}
    with pytest.raises(UserError, match="planted pets_get_recipes: every cue probe query is in the training set"):
        shortcut_rates(renamed, target, "pets_get_recipes", exclude=training)
    with pytest.raises(UserError, match="no probe queries"):
        violation_rate(renamed, target, "recipe_dump", [])
