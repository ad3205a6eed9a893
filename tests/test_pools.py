"""Attribute pools from every supported source, and clear errors for bad ones."""

import json
from pathlib import Path

import pytest

from surfturf.attributes.pools import AttributePool
from surfturf.errors import UserError


def test_builtin_pool_has_several_hundred_distinct_query_attributes() -> None:
    pool = AttributePool.load("builtin")
    assert len(pool) >= 300
    assert len(set(pool.attributes)) == len(pool)
    assert all(a.startswith("The query ") for a in pool.attributes)
    assert pool.describe()["kind"] == "builtin"


def test_txt_pool_skips_blanks_comments_and_merges_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "pool.txt"
    path.write_text("# topics\nThe query is about cats.\n\n  The query is about cats.  \nThe query is in French.\n")
    pool = AttributePool.load(path)
    assert pool.attributes == ("The query is about cats.", "The query is in French.")
    assert pool.weights == (2.0, 1.0)


def test_index_dir_pool(tmp_path: Path) -> None:
    rows = [{"attribute": "The query uses LaTeX.", "weight": 40, "cluster": 0},
            {"attribute": "The query asks for code.", "weight": 12, "cluster": 1}]
    (tmp_path / "pool.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pool = AttributePool.load(tmp_path)
    assert pool.kind == "index"
    assert pool.attributes == ("The query uses LaTeX.", "The query asks for code.")
    assert pool.weights == (40.0, 12.0)


def test_pseudo_sae_jsonl_pool_counts_rows_per_attribute(tmp_path: Path) -> None:
    rows = [
        {"prompt": "p1", "response": "r1", "attributes": ["raw"], "sae_attributes": ["Formal vocabulary", "Math question"],
         "normalized_weights": [0.9, 0.4]},
        {"prompt": "p2", "response": "r2", "sae_attributes": ["Formal vocabulary", "Formal vocabulary"]},
    ]
    path = tmp_path / "pseudo_sae_attributes.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pool = AttributePool.load(path)
    assert pool.kind == "sae"
    assert dict(zip(pool.attributes, pool.weights)) == {"Formal vocabulary": 2.0, "Math question": 1.0}


def test_plain_jsonl_list_pool(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text('"The query is short."\n{"attribute": "The query is long."}\n')
    assert AttributePool.load(path).attributes == ("The query is short.", "The query is long.")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", "# only a comment\n\n", "is empty"),
        ("bad.jsonl", '"ok"\n{not json\n', "line 2 is not JSON"),
        ("shape.jsonl", '{"text": "no attribute key"}\n', "line 1 has no 'attribute'"),
        ("sae.jsonl", '{"sae_attributes": "not a list"}\n', "'sae_attributes' is not a list"),
        ("pool.csv", "a,b\n", "unknown type"),
    ],
)
def test_bad_pools_are_clear_errors(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        AttributePool.load(path)


def test_missing_pool_and_index_without_pool(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        AttributePool.load(tmp_path / "nope.txt")
    with pytest.raises(UserError, match="no pool.jsonl"):
        AttributePool.load(tmp_path)
