"""The fitted offline extractor end to end: saved as JSON, built into the index, reused on resume,
read back by traces, used by the world's extractor role; and code-switched text is named as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from surfturf.attributes.heuristic import LEXICON_FILE, OfflineExtractor, query_attributes
from surfturf.attributes.language import mixed_languages
from surfturf.attributes.surface import describe
from surfturf.errors import UserError
from surfturf.testing.index import build_offline_index
from surfturf.turf import store
from surfturf.turf.context import trace_context

STOCK = "We reticulate the splines"


def rows(n: int = 240) -> list[tuple[str, str]]:
    """A corpus where one wording ("reticulate the splines") is concentrated in a sixth of the responses
    and one framing sentence in a sixth of the queries."""
    out = []
    for i in range(n):
        if i % 6 == 0:
            out.append((f"Answer in one line. Fix grid {i}.", f"{STOCK} of grid {i} now. Hope that settles it."))
        else:
            out.append((f"What is the colour of item {i}?", f"Item {i} is painted a shade of blue number {i % 7}."))
    return out


def write_corpus(path: Path, pairs: list[tuple[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for query, response in pairs:
            handle.write(json.dumps({"messages": [{"role": "user", "content": query},
                                                  {"role": "assistant", "content": response}]}) + "\n")
    return path


def test_save_and_load_give_the_same_descriptors(tmp_path: Path) -> None:
    fitted = OfflineExtractor.fit(rows())
    fitted.save(tmp_path / LEXICON_FILE)
    loaded = OfflineExtractor.load(tmp_path / LEXICON_FILE)
    for query, response in rows()[:12]:
        assert loaded.query(query) == fitted.query(query)
        assert loaded.response(response) == fitted.response(response)
    assert any("reticulate the splines" in a for a in loaded.response(f"{STOCK} of grid 5 now."))
    assert loaded.query("Answer in one line. Fix grid 5.") == query_attributes("Answer in one line. Fix grid 5.")  # surface only
    assert json.loads((tmp_path / LEXICON_FILE).read_text())["format"] == "surfturf-lexicon/1"


@pytest.mark.parametrize("content", ["{not json", json.dumps({"format": "other"}),
                                     json.dumps({"format": "surfturf-lexicon/1", "responses": {"kind": "response"}})])
def test_a_bad_lexicon_file_is_one_user_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / LEXICON_FILE
    path.write_text(content)
    with pytest.raises(UserError) as caught:
        OfflineExtractor.load(path)
    assert str(path) in str(caught.value) and "rebuild" in caught.value.fix


def test_fit_counts_a_bounded_deterministic_sample() -> None:
    corpus = rows(600)
    sampled = OfflineExtractor.fit(iter(corpus), total=len(corpus), sample=100)
    assert sampled.responses.n_texts == 100
    again = OfflineExtractor.fit(iter(corpus), total=len(corpus), sample=100)
    assert sampled.to_dict() == again.to_dict()


def test_the_index_stores_its_lexicon_and_traces_use_it(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus.jsonl", rows())
    index = build_offline_index([str(corpus)], tmp_path / "INDEX", 1000)
    manifest = json.loads((index / store.MANIFEST).read_text())
    assert manifest["lexicon"] == LEXICON_FILE and (index / LEXICON_FILE).is_file()
    stored = OfflineExtractor.load(index / LEXICON_FILE)
    opened = store.Index.open(index)
    examples = opened.table(store.RESPONSE_ATTRIBUTES, ["example"]).column("example").to_pylist()
    texts = opened.attribute_texts("response").to_pylist()
    first = [text for example, text in zip(examples, texts) if example == 0]
    assert first == stored.response(rows()[0][1]) and any("splines" in a or "settles" in a for a in first)
    context = trace_context(index)
    assert context.offline.to_dict() == stored.to_dict()
    assert asyncio_run(context.source(None).response(rows()[0][1])) == (first, None)


def test_a_resumed_build_reuses_the_stored_lexicon(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus.jsonl", rows())
    other = OfflineExtractor.fit([("Tell me a riddle about owls now.", "Owls riddle back at you.")] * 30)
    (tmp_path / "INDEX").mkdir()
    other.save(tmp_path / "INDEX" / LEXICON_FILE)  # as a killed build would have left it
    index = build_offline_index([str(corpus)], tmp_path / "INDEX", 1000)
    assert OfflineExtractor.load(index / LEXICON_FILE).to_dict() == other.to_dict()
    texts = store.Index.open(index).texts("response").to_pylist()
    assert not any("reticulate" in text for text in texts)


def test_the_world_extractor_role_is_fitted_on_the_world_corpus(world) -> None:  # type: ignore[no-untyped-def]
    from surfturf.attributes.extract import extraction_messages
    from surfturf.world import generate_corpus, train_target
    from surfturf.world.roles import WorldRoles

    corpus = generate_corpus(world, seed=0)[::4]
    roles = WorldRoles(world, train_target(corpus, seed=0), seed=0)
    fitted = OfflineExtractor.fit(list(zip(roles.target.queries, roles.target.responses)))
    response = roles.target.responses[0]
    answer = roles.answer("world/extractor", extraction_messages(response, "response"))
    assert [line.split(". ", 1)[1] for line in answer.splitlines()] == fitted.response(response)
    assert roles.offline is roles.offline  # fitted once


@pytest.mark.parametrize("text, languages", [
    ("Eleza maana ya neno amani kwa Kiingereza, and tell me how it is used.", ["English", "Swahili"]),
    ("Explique-moi pourquoi le ciel est bleu et pas vert, but answer it for a child who is five.", ["English", "French"]),
    ("请用Python写一个函数 that sorts a list", ["Chinese", "English"]),
])
def test_code_switched_text_is_named(text: str, languages: list[str]) -> None:
    assert sorted(mixed_languages(text)) == languages
    assert f"The query mixes {' and '.join(mixed_languages(text))}." in describe(text, "query")


@pytest.mark.parametrize("text", [
    "Meet me at 5 at the station and bring the tickets.",
    "¿Qué es la democracia y por qué es importante para los ciudadanos?",
    "これは日本語の文です。漢字もあります。",
    "Explain the phrase 'je ne sais quoi' and where the English borrowed it from, with some history of the words.",
])
def test_one_language_is_not_a_mix(text: str) -> None:
    assert mixed_languages(text) == []


def asyncio_run(awaitable):  # type: ignore[no-untyped-def]
    import asyncio

    return asyncio.run(awaitable)
