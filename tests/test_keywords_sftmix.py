"""Keyword attribution on the real sft-mix corpus, checked against counts made independently here."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from surfturf.turf.corpus import CorpusView
from surfturf.turf.keywords import Vocabulary, keyword_counts, rare_keywords


@pytest.fixture(scope="module")
def rows(sft_mix: Path, sft_rows: Callable[..., list[dict]]) -> list[dict]:
    return [{"id": record["id"], "source": record["source"], "query": record["messages"][0]["content"],
             "response": record["messages"][1]["content"]}
            for file in sorted(sft_mix.glob("*.jsonl.gz")) for record in sft_rows(file.name.removesuffix(".jsonl.gz"))]


@pytest.fixture(scope="module")
def corpus(rows: list[dict]) -> CorpusView:
    return CorpusView(pa.Table.from_pylist([{"example": i, **row} for i, row in enumerate(rows)]))


def _by_source(rows: list[dict], pattern: str, field: str = "query") -> Counter:
    found = re.compile(pattern, re.IGNORECASE)
    return Counter(row["source"] for row in rows if found.search(row[field]))


def test_implement_is_concentrated_in_codealpaca(rows: list[dict], corpus: CorpusView) -> None:
    [entry] = keyword_counts(corpus, ["implement"])
    reference = _by_source(rows, r"\bimplement\b")
    assert entry["sources"] == dict(reference)
    assert entry["count"] == sum(reference.values())
    assert entry["top_source"] == "codealpaca"
    assert entry["concentration"] == pytest.approx(reference["codealpaca"] / sum(reference.values()), abs=1e-4)
    assert entry["concentration"] > 0.95
    share = sum(row["source"] == "codealpaca" for row in rows) / len(rows)
    assert entry["corpus_share"] == pytest.approx(share, abs=1e-4)
    assert entry["lift"] == pytest.approx(entry["concentration"] / share, rel=1e-3)
    assert entry["p_adjusted"] < 1e-100


def test_phrases_responses_and_absent_words(rows: list[dict], corpus: CorpusView) -> None:
    context, absent = keyword_counts(corpus, ["Context:", "zzqxv"])
    assert context["sources"] == dict(_by_source(rows, r"\bContext:"))
    assert absent["count"] == 0 and absent["top_source"] is None
    [final] = keyword_counts(corpus, ["####"], field="response")
    assert final["sources"] == dict(_by_source(rows, "####", "response")) and final["top_source"] == "gsm8k"


def test_rare_words_of_a_failing_query(corpus: CorpusView) -> None:
    vocabulary = Vocabulary.build(corpus)
    found = rare_keywords(corpus, vocabulary, "Please implement the passage's answer: who painted it?")
    words = [entry["word"] for entry in found]
    assert "implement" in words and "the" not in words and "answer" not in words
    assert next(entry for entry in found if entry["word"] == "implement")["top_source"] == "codealpaca"
    assert all(entry["count"] >= 3 for entry in found)
    assert [entry["p_adjusted"] for entry in found] == sorted(entry["p_adjusted"] for entry in found)
