"""Corpus readers: JSONL, JSONL.gz, Parquet and Hugging Face datasets -> (id, source, query, response) rows."""

from surfturf.data.readers import CorpusInput, read_corpus, resolve_inputs
from surfturf.data.rows import COLUMN_PAIRS, CorpusRow, CorpusStats

__all__ = ["COLUMN_PAIRS", "CorpusInput", "CorpusRow", "CorpusStats", "read_corpus", "resolve_inputs"]
