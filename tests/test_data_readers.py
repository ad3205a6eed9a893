"""Corpus readers: every format gives the same (id, source, query, response) rows; bad input names the fix."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from surfturf.data import CorpusStats, read_corpus, resolve_inputs
from surfturf.errors import UserError


TULU = [
    {"id": "a1", "source": "math", "messages": [{"role": "system", "content": "Be brief."},
                                                {"role": "user", "content": "What is 2+2?"},
                                                {"role": "assistant", "content": "4"}]},
    {"id": "a2", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                              {"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Bye!"}]},
    {"id": "a3", "messages": [{"role": "user", "content": "No answer here"}]},
]


def _write_jsonl(path: Path, records: list[dict], gz: bool = False) -> Path:
    text = "".join(json.dumps(r) + "\n" for r in records)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _rows(*specs: str) -> tuple[list, CorpusStats]:
    stats = CorpusStats()
    return list(read_corpus(resolve_inputs(list(specs)), stats)), stats


@pytest.mark.parametrize("gz", [False, True])
def test_tulu_messages_first_turns_multi_turn_counted(tmp_path: Path, gz: bool) -> None:
    path = _write_jsonl(tmp_path / ("chat.jsonl.gz" if gz else "chat.jsonl"), TULU, gz=gz)
    rows, stats = _rows(str(path))
    assert [(r.id, r.source, r.query, r.response) for r in rows] == [
        ("a1", "math", "What is 2+2?", "4"), ("a2", "chat", "Hi", "Hello!")]  # source from the file stem
    assert rows[1].multi_turn and not rows[0].multi_turn
    assert stats.rows == 2 and stats.multi_turn == 1
    assert stats.skipped == {"no user or no assistant turn": 1}
    assert stats.sources == {"math": 1, "chat": 1}


def test_rows_written_as_tulu_records_read_back_the_same(tmp_path: Path) -> None:
    pq.write_table(pa.table({"prompt": ["Q1", "Q2"], "response": ["R1", "R2"]}), tmp_path / "pairs.parquet")
    rows, _ = _rows(str(tmp_path / "pairs.parquet"))
    assert rows[0].tulu() == {"id": "pairs-0", "source": "pairs", "messages": [
        {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "R1"}]}
    again, _ = _rows(str(_write_jsonl(tmp_path / "tulu.jsonl", [row.tulu() for row in rows])))
    assert again == rows


@pytest.mark.parametrize("columns", [("prompt", "response"), ("instruction", "output"), ("question", "answer")])
def test_parquet_column_pairs(tmp_path: Path, columns: tuple[str, str]) -> None:
    q, r = columns
    pq.write_table(pa.table({q: ["Q1", "Q2", ""], r: ["R1", "R2", "R3"]}), tmp_path / "pairs.parquet")
    rows, stats = _rows(str(tmp_path / "pairs.parquet"))
    assert [(r.id, r.source, r.query, r.response) for r in rows] == [
        ("pairs-0", "pairs", "Q1", "R1"), ("pairs-1", "pairs", "Q2", "R2")]
    assert stats.skipped == {"empty query or response": 1}
    assert f"'{q}'/'{r}'" in next(iter(stats.layouts.values()))


def test_hf_saved_dataset_directory(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list(TULU[:2]).save_to_disk(str(tmp_path / "saved"))
    rows, _ = _rows(str(tmp_path / "saved"))
    assert [(r.id, r.query) for r in rows] == [("a1", "What is 2+2?"), ("a2", "Hi")]


def test_directory_of_files_expands_sorted_and_limit_is_per_input(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "b.jsonl", [{"prompt": f"q{i}", "response": "r"} for i in range(5)])
    _write_jsonl(tmp_path / "a.jsonl", [{"prompt": f"p{i}", "response": "r", "source": "alpha"} for i in range(5)])
    stats = CorpusStats()
    rows = list(read_corpus(resolve_inputs([str(tmp_path)]), stats, limit=2))
    assert [(r.source, r.query) for r in rows] == [("alpha", "p0"), ("alpha", "p1"), ("b", "q0"), ("b", "q1")]


def test_real_sft_mix_file_reads(sft_mix: Path) -> None:
    rows, stats = _rows(str(sft_mix / "self_instruct.jsonl.gz"))
    assert stats.rows == 175 == len(rows) and stats.multi_turn == 0
    assert all(r.source == "self_instruct" and r.query and r.response for r in rows)


def test_missing_columns_names_what_was_found(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "odd.jsonl", [{"text": "hello", "label": 1}])
    with pytest.raises(UserError) as error:
        _rows(str(path))
    assert "['label', 'text']" in error.value.problem
    assert "messages" in error.value.fix and "prompt/response" in error.value.fix


def test_bad_json_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "a", "response": "b"}\n{oops\n')
    with pytest.raises(UserError, match=r"bad.jsonl line 2 is not valid JSON"):
        _rows(str(path))


def test_missing_path_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        resolve_inputs([str(tmp_path / "nope.jsonl")])
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(UserError, match="unknown format"):
        resolve_inputs([str(tmp_path / "data.csv")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no"):
        resolve_inputs([str(tmp_path / "empty")])


def test_hub_name_is_recognised_without_network() -> None:
    (corpus,) = resolve_inputs(["allenai/tulu-3-sft-mixture:train"])
    assert corpus.kind == "hf-hub" and corpus.stem == "tulu-3-sft-mixture" and corpus.sha256() is None
