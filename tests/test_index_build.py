"""End to end on real sft-mix rows: build an index through the model layer, open it by memmap, search, export."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import numpy as np
import pytest

from surfturf.data import resolve_inputs
from surfturf.errors import UserError
from surfturf.models import ModelSession
from surfturf.testing.server import FakeLLMServer
from surfturf.turf import nearest, store
from surfturf.turf.build import BuildConfig, IndexBuilder
from surfturf.turf.export import (export_pool, export_sae, pool_from_sae, read_pool_jsonl, read_sae_jsonl,
                                  sae_records)
from surfturf.turf.store import Index

ROWS_PER_FILE = 30
TEXT = re.compile(r'<text kind="(query|response)">\n(.*)\n</text>', re.DOTALL)


def describe(messages: list[dict], model: str) -> str:
    """A deterministic stand-in extractor and summariser that reads the project's tagged prompts."""
    content = messages[-1]["content"]
    if "<attributes>" in content:
        first = content.split("<attributes>\n- ")[1].split("\n")[0]
        return f"<summary>{first}</summary>"
    kind, text = TEXT.search(content).groups()
    if "Natalia" in text and kind == "query":
        return "Sorry, I can't describe that."
    words = re.findall(r"[a-z]+", text.lower())
    longest = max(words, key=len) if words else "nothing"
    traits = [
        f"is {'long' if len(text) > 300 else 'short'}",
        f"{'contains' if re.search(r'[0-9]', text) else 'has no'} digits",
        f"begins with the word {words[0] if words else 'none'}",
        f"mentions the word {longest}",
        f"{'asks a question' if '?' in text else 'gives an instruction'}",
        f"has {text.count(chr(10)) // 3} paragraph breaks",
        f"{'uses code syntax' if re.search(r'[{};=]', text) else 'reads as prose'}",
        f"ends with {'punctuation' if text.rstrip()[-1:] in '.?!' else 'no punctuation'}",
        f"has {len(words) // 20 * 20} or more words",
        f"is written in {'capitalised' if text[:1].isupper() else 'lowercase'} form",
    ]
    return "\n".join(f"{i}. The {kind} {trait}." for i, trait in enumerate(traits, start=1))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, sft_mix: Path) -> Path:
    out = tmp_path_factory.mktemp("index") / "INDEX"
    with FakeLLMServer(responder=describe).in_thread() as server:
        async def run() -> None:
            session = ModelSession(cache_dir=out.parent / "cache", max_concurrency=16)
            extractor = session.model("extractor", "openai-compatible/extractor", base_url=server.base_url)
            summariser = session.model("summariser", "openai-compatible/summariser", base_url=server.base_url)
            config = BuildConfig(extractor=extractor.spec, embedder="hash/64", shard_rows=64, limit=ROWS_PER_FILE,
                                 summariser=summariser.spec, k=24)
            builder = IndexBuilder(resolve_inputs([str(sft_mix)]), out, config, session, extractor,
                                   session.model("embedder", "hash/64"), summariser)
            await builder.run()
            await session.aclose()

        asyncio.run(run())
    return out


def test_manifest_and_tables(built: Path) -> None:
    index = Index.open(built)
    manifest = index.manifest
    assert manifest["status"] == "complete" and manifest["command"] == "index build"
    assert not (built / "work").exists()  # shards are folded into the final files
    assert manifest["models"] == {"extractor": "openai-compatible/extractor", "embedder": "hash/64",
                                  "summariser": "openai-compatible/summariser"}
    assert len(manifest["inputs"]) == 5 and all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    counts = manifest["counts"]
    assert counts["examples"] == 5 * ROWS_PER_FILE and counts["shards"] == 3 and counts["clusters"] == 24
    assert counts["sources"] == {s: ROWS_PER_FILE for s in ("coconot", "codealpaca", "gsm8k", "self_instruct", "t0")}
    examples = index.examples
    assert examples.column("example").to_pylist() == list(range(5 * ROWS_PER_FILE))
    queries = index.query_attributes
    assert queries.column_names == ["attribute", "example", "position", "text_id", "cluster"]
    assert queries.column("attribute").to_pylist() == list(range(queries.num_rows))
    assert queries.num_rows == counts["query_attributes"] and index.response_attributes.num_rows == 10 * counts["examples"]
    assert all(t.startswith("The query ") for t in index.attribute_texts("query").to_pylist()[:50])


def test_each_distinct_text_is_stored_and_embedded_once(built: Path) -> None:
    index = Index.open(built)
    assert index.manifest["format"] == store.INDEX_FORMAT == 2
    assert index.manifest["clustering"]["assignment"]["approximate"] is False  # 24 clusters: exact
    assert index.manifest["clustering"]["device"] == nearest.kmeans_device()  # "cpu" on a machine without a GPU
    for kind, attributes in (("query", index.query_attributes), ("response", index.response_attributes)):
        texts = index.table(store.texts_table(kind))
        embeddings = index.query_embeddings if kind == "query" else index.response_embeddings
        distinct = texts.column("text").to_pylist()
        assert len(set(distinct)) == len(distinct) == embeddings.shape[0] == index.manifest["counts"][f"{kind}_texts"]
        assert len(distinct) < attributes.num_rows  # the stand-in extractor repeats texts across rows
        ids = attributes.column("text_id").to_numpy()
        assert texts.column("count").to_pylist() == np.bincount(ids, minlength=len(distinct)).tolist()
        first_rows = np.unique(ids, return_index=True)[1]
        assert (np.diff(first_rows) > 0).all()  # ids number texts in order of first appearance
        again = index.embed(distinct[:20])
        assert np.allclose(np.asarray(embeddings[:20], dtype=np.float32), again, atol=2e-3)
    query_texts = index.table(store.QUERY_TEXTS, ["cluster"]).column("cluster").to_numpy()
    assert (query_texts[index.text_ids("query")] == index.query_attributes.column("cluster").to_numpy()).all()


def test_an_old_format_index_asks_for_a_rebuild(built: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "old"
    shutil.copytree(built, copy)
    manifest = json.loads((copy / store.MANIFEST).read_text())
    del manifest["format"]
    (copy / store.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="has format 1; this surfturf reads index format 2") as error:
        Index.open(copy)
    assert "surfturf index build" in error.value.fix and "\n" not in str(error.value)


def test_extraction_failures_are_recorded_with_raw_text(built: Path) -> None:
    index = Index.open(built)
    examples = index.examples.to_pylist()
    failed = [e for e in examples if e["query_error"]]
    assert failed and all("Natalia" in e["query"] for e in failed)
    errors = [json.loads(line) for line in (built / store.ERRORS).read_text().splitlines()]
    assert {e["example"] for e in errors} == {e["example"] for e in failed}
    assert errors[0]["raw"] == "Sorry, I can't describe that." and errors[0]["kind"] == "query"
    failed_rows = {e["example"] for e in failed}
    owners = set(index.query_attributes.column("example").to_pylist())
    assert not failed_rows & owners  # no attributes invented for a failed extraction


def test_clusters_central_attributes_and_summaries(built: Path) -> None:
    index = Index.open(built)
    clusters = index.clusters.to_pylist()
    assert sum(c["size"] for c in clusters) == index.query_attributes.num_rows
    sizes = np.bincount(index.query_attributes.column("cluster").to_numpy(), minlength=24)
    assert [c["size"] for c in clusters] == sizes.tolist()
    for cluster in clusters:
        if cluster["size"]:
            assert 1 <= len(cluster["central"]) <= 5 and len(set(cluster["central"])) == len(cluster["central"])
            assert cluster["summary"] == cluster["central"][0]  # the stand-in summariser echoes the first
    pool = read_pool_jsonl(built / store.POOL)
    assert sum(p["weight"] for p in pool) == index.query_attributes.num_rows


def test_opens_by_memmap_and_assigns_like_stored(built: Path) -> None:
    index = Index.open(built)
    assert isinstance(index.query_embeddings, np.memmap) and isinstance(index.response_embeddings, np.memmap)
    assert index.query_embeddings.dtype == np.float16
    vectors = np.asarray(index.query_embeddings[:200], dtype=np.float32)
    stored = index.table(store.QUERY_TEXTS, ["cluster"]).column("cluster").to_numpy()[:200]
    assert (index.assign_clusters(vectors) == stored).mean() > 0.97


def test_search_matches_brute_force_and_faiss_file(built: Path) -> None:
    import faiss

    index = Index.open(built)
    texts = ["The response contains digits.", "The response uses code syntax."]
    vectors = index.embed(texts)
    scores, rows = index.search_responses(vectors, 50)
    text_ids = index.text_ids("response")
    every_row = np.asarray(index.response_embeddings, dtype=np.float32)[text_ids]  # one vector per attribute row
    brute = vectors @ every_row.T
    for q in range(2):
        assert np.allclose(scores[q], np.sort(brute[q])[::-1][:50], atol=1e-5)
        assert np.allclose(brute[q, rows[q]], scores[q], atol=1e-5) and len(set(rows[q])) == 50
    copy = np.asarray(index.response_embeddings, dtype=np.float32)
    assert all(np.array_equal(a, b) for a, b in zip(index.search_responses(vectors, 50, copy), (scores, rows)))
    everything = index.search_responses(vectors, len(text_ids) + 7)[1]
    assert (everything[:, -7:] == -1).all() and sorted(everything[0, :-7]) == list(range(len(text_ids)))
    flat = faiss.read_index(str(built / store.RESPONSES_FAISS))  # over the distinct response texts
    flat_scores, flat_ids = flat.search(vectors, 1)
    assert np.allclose(flat_scores[:, 0], scores[:, 0], atol=1e-5) and (flat_ids[:, 0] == text_ids[rows[:, 0]]).all()
    with pytest.raises(UserError, match="width"):
        index.search_responses(np.ones((1, 8), dtype=np.float32), 5)


def test_exports_round_trip(built: Path, tmp_path: Path) -> None:
    index = Index.open(built)
    assert export_pool(index, tmp_path / "pool.jsonl") == len(read_pool_jsonl(built / store.POOL))
    assert read_pool_jsonl(tmp_path / "pool.jsonl") == read_pool_jsonl(built / store.POOL)
    written = export_sae(index, tmp_path / "sae.jsonl")
    rows = read_sae_jsonl(tmp_path / "sae.jsonl")
    assert (tmp_path / "sae.jsonl").read_bytes().isascii()  # no raw U+2028 for splitlines() readers
    assert written == len(rows) == len(set(index.query_attributes.column("example").to_pylist()))
    assert rows == list(sae_records(index))
    summaries = index.cluster_summaries
    first = rows[0]
    assert set(first) >= {"id", "prompt", "response", "source", "attributes", "sae_attributes", "normalized_weights"}
    assert len(first["attributes"]) == len(first["sae_attributes"]) == len(first["normalized_weights"]) == 10
    assert set(first["sae_attributes"]) <= set(summaries)
    weights = np.concatenate([r["normalized_weights"] for r in rows])
    assert weights.min() >= 0.0 and weights.max() <= 1.0 and (weights == 0.0).any()
    pool = pool_from_sae(rows)
    assert sum(p["weight"] for p in pool) == index.query_attributes.num_rows


def test_corrupt_or_missing_files_name_the_file(built: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    (copy / store.CENTROIDS).write_bytes(b"not an array")
    with pytest.raises(UserError, match="centroids.npy is corrupt") as error:
        Index.open(copy)
    assert "surfturf index build" in error.value.fix
    (copy / store.CLUSTERS).unlink()
    with pytest.raises(UserError, match="clusters.parquet is missing"):
        Index.open(copy)
    (copy / store.MANIFEST).write_text("{")
    with pytest.raises(UserError, match="manifest.json is corrupt"):
        Index.open(copy)
    with pytest.raises(UserError, match="does not exist"):
        Index.open(tmp_path / "nothing")


def test_a_cluster_at_its_centroid_weighs_its_members_one() -> None:
    from surfturf.turf.export import normalized_weights

    clusters = np.array([0, 0, 1, 1, 1])
    similarity = np.array([1 - 3e-7, 1 - 3e-7, 0.9, 0.7, 0.5], dtype=np.float32)  # cluster 0: one text, rounding
    weights = normalized_weights(clusters, similarity, 2)
    assert weights[:2].tolist() == [1.0, 1.0]
    assert np.allclose(weights[2:], [0.8, 0.4, 0.0], atol=1e-6)
