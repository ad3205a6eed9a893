"""Contrastive lexical descriptors fitted on real rows (sft-mix) and on a synthetic corpus."""

from __future__ import annotations

from collections.abc import Callable

from surfturf.attributes.heuristic import OfflineExtractor, query_attributes
from surfturf.attributes.lexical import Lexicon, min_support


def pairs(sft_rows: Callable[..., list[dict]], name: str, limit: int) -> list[tuple[str, str]]:
    return [(row["messages"][0]["content"], row["messages"][1]["content"]) for row in sft_rows(name, limit)]


def test_support_floor_grows_with_the_number_of_candidates():
    assert min_support(10) < min_support(10_000) < min_support(10_000_000)


def test_a_concentrated_phrase_is_described_and_a_generic_word_is_not():
    texts = [f"Question {i}: what is the colour of item {i}?" for i in range(300)]
    texts += [f"Please reticulate the splines of grid {i} now." for i in range(40)]
    lexicon = Lexicon.fit(texts, "query")
    described = lexicon.describe("Please reticulate the splines of grid 7 now.")
    assert any("'reticulate the splines'" in a or "'reticulate the'" in a for a in described), described
    assert "what" not in lexicon.words and "the" not in lexicon.words  # in more than GENERIC_SHARE of texts


def test_stock_closings_are_learned_from_the_data():
    rows = [(f"Add {i} and {i + 1}.", f"The sum is {2 * i + 1}. Hope that settles it.") for i in range(200)]
    rows += [(f"Name fruit {i}.", f"Fruit {i} is an apple.") for i in range(800)]
    extractor = OfflineExtractor.fit(rows)
    assert "The response ends with the sentence 'Hope that settles it.'." in extractor.response("The sum is 9. Hope that settles it.")


def test_fitted_extractor_on_sftmix_is_deterministic_and_bounded(sft_rows: Callable[..., list[dict]]):
    data = pairs(sft_rows, "codealpaca", 600) + pairs(sft_rows, "gsm8k", 600) + pairs(sft_rows, "coconot", 300)
    first, second = OfflineExtractor.fit(data), OfflineExtractor.fit(list(reversed(data)))
    for query, response in data[::25]:
        described = first.query(query)
        assert described == second.query(query) and 1 <= len(described) <= 10
        assert described[-1] == query_attributes(query)[-1]  # length stays last
        assert 1 <= len(first.response(response)) <= 10
    assert first.responses.support >= 3 and first.responses.phrases
