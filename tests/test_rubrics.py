"""Rubric YAML: the built-ins validate, and a bad user rubric names the field that is wrong."""

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from surfturf.cli.main import cli
from surfturf.errors import UserError
from surfturf.rubrics import builtin_names, load_rubric, parse_rubric, rubric_text

PAPER_BEHAVIOURS = {"code", "analytic", "math", "rebut", "refusal"}


def _valid() -> dict:
    return yaml.safe_load(rubric_text("code"))


def test_builtins_cover_the_papers_behaviours_and_render() -> None:
    assert PAPER_BEHAVIOURS <= set(builtin_names())
    for name in builtin_names():
        rubric = load_rubric(name)
        assert rubric.name == name
        text = rubric.render()
        assert rubric.principle.split()[0] in text
        assert "0-" in text and "-100" in text
        assert rubric.score_low, f"{name} must say what to score low"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("principle"), "principle"),
        (lambda d: d.update(bands=[{"min": 0, "max": 50, "meaning": "x"}, {"min": 60, "max": 100, "meaning": "y"}]), "bands"),
        (lambda d: d.update(bands=[{"min": 0, "max": 40, "meaning": "x"}, {"min": 41, "max": 90, "meaning": "y"}]), "bands"),
        (lambda d: d["bands"][1].update(min=200), "bands.1.min"),
        (lambda d: d.update(name="Has Spaces"), "name"),
        (lambda d: d.update(colour="blue"), "colour"),
        (lambda d: d.update(violation=[]), "violation"),
        (lambda d: d.update(threshold=150), "threshold"),
        (lambda d: d.update(title="   "), "title"),
    ],
)
def test_bad_rubric_error_names_the_field(change, field: str) -> None:
    data = _valid()
    change(data)
    with pytest.raises(UserError) as caught:
        parse_rubric(yaml.safe_dump(data), "mine.yaml")
    assert f"field '{field}'" in caught.value.problem
    assert "mine.yaml" in caught.value.problem


def test_user_rubric_from_file_and_bad_yaml(tmp_path: Path) -> None:
    data = _valid()
    data["name"] = "mine"
    good = tmp_path / "mine.yaml"
    good.write_text(yaml.safe_dump(data))
    assert load_rubric(good).name == "mine"
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_rubric(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(UserError, match="mapping"):
        load_rubric(listing)
    with pytest.raises(UserError, match="unknown rubric"):
        load_rubric("no-such-rubric")


def test_rubrics_cli_list_and_show(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["rubrics", "list"])
    assert listed.exit_code == 0
    assert {line.split()[0] for line in listed.output.splitlines()} >= PAPER_BEHAVIOURS
    shown = runner.invoke(cli, ["rubrics", "show", "rebut"])
    assert shown.exit_code == 0 and "name: rebut" in shown.output
    judged = runner.invoke(cli, ["rubrics", "show", "rebut", "--judge-text"])
    assert "Score bands:" in judged.output
