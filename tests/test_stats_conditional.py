"""P(response feature | query feature) per chunk on sft-mix, against counts made independently here."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest

from surfturf.errors import UserError
from surfturf.turf.corpus import CorpusView
from surfturf.turf.stats import QueryFeature, conditional_stats

FILES = ("gsm8k", "t0", "codealpaca")


@pytest.fixture(scope="module")
def rows(sft_rows: Callable[..., list[dict]]) -> list[dict]:
    return [{"source": record["source"], "query": record["messages"][0]["content"],
             "response": record["messages"][1]["content"]} for name in FILES for record in sft_rows(name, 1500)]


@pytest.fixture(scope="module")
def corpus(rows: list[dict]) -> CorpusView:
    table = pa.Table.from_pylist([{"example": i, "id": str(i), **row} for i, row in enumerate(rows)])
    clusters = np.array([0 if "?" in row["query"] else 1 for row in rows])  # a toy two-cluster attribute
    pairs = pa.table({"example": np.arange(len(rows)), "cluster": clusters})
    return CorpusView(table, pairs, n_clusters=2)


def _rate(rows: list[dict], query: str, response: str, inside: bool, source: str, given: bool = True) -> tuple[int, int]:
    chosen = [row for row in rows if (row["source"] == source) == inside
              and bool(re.search(query, row["query"], re.IGNORECASE)) == given]
    return sum(bool(re.search(response, row["response"], re.IGNORECASE)) for row in chosen), len(chosen)


def test_calculator_annotations_given_how_many_questions(rows: list[dict], corpus: CorpusView) -> None:
    result = conditional_stats(corpus, QueryFeature(regexes=(r"how many",)), r"<<[^>]*=[^>]*>>")
    chunks = {row["source"]: row for row in result["chunks"]}
    for source in FILES:
        hits, n = _rate(rows, r"how many", r"<<[^>]*=[^>]*>>", True, source)
        assert (chunks[source]["given"]["hits"], chunks[source]["given"]["n"]) == (hits, n)
        hits, n = _rate(rows, r"how many", r"<<[^>]*=[^>]*>>", False, source)
        assert (chunks[source]["outside"]["hits"], chunks[source]["outside"]["n"]) == (hits, n)
        hits, n = _rate(rows, r"how many", r"<<[^>]*=[^>]*>>", True, source, given=False)
        assert (chunks[source]["without"]["hits"], chunks[source]["without"]["n"]) == (hits, n)
    gsm = chunks["gsm8k"]
    assert gsm["given"]["p"] > 0.9 and gsm["outside"]["p"] < 0.05
    assert gsm["given"]["low"] <= gsm["given"]["p"] <= gsm["given"]["high"]
    assert result["chunks"][0]["source"] == "gsm8k"  # most queries with the feature first


def test_cluster_features_combine_with_regexes(rows: list[dict], corpus: CorpusView) -> None:
    feature = QueryFeature(regexes=(r"\bcontext\b",), clusters=(1,), labels=("no question mark",))
    result = conditional_stats(corpus, feature, r"^\S+$")
    expected = sum(1 for row in rows if re.search(r"\bcontext\b", row["query"], re.IGNORECASE) and "?" not in row["query"])
    assert result["overall"]["given"]["n"] == expected
    assert "cluster 1 (no question mark)" in result["query_feature"]


def test_bad_regex_and_unknown_cluster_are_user_errors(corpus: CorpusView) -> None:
    with pytest.raises(UserError, match="regular expression"):
        conditional_stats(corpus, QueryFeature(regexes=("(unclosed",)), "x")
    with pytest.raises(UserError, match="cluster 7"):
        conditional_stats(corpus, QueryFeature(clusters=(7,)), "x")
